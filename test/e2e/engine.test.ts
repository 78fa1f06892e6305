import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { advanceWatermark } from '../../core/cloudwatch/point-mapper.js';
import { CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchEngine } from '../../core/cloudwatch/cloudwatch-engine.js';
import type { Series } from '../../core/cloudwatch/series.js';
import { DEFAULT_ACCOUNT } from '../../emulator/index.js';
import { countHeapStrings } from '../support/heap-strings.js';
import { useEmulatorCredentials } from '../support/collection-harness.js';
import {
  bareWorld,
  type EmulatedCollection,
  lambdaScope,
  MINUTE,
  seriesIdentity,
  rekognitionTruth,
  startEmulatedCollection,
  T0,
} from '../support/emulated-collection.js';
import { assertEachPointOnce, diffPoints, expectedPoints, metricTable } from '../support/world-truth.js';

before(() => useEmulatorCredentials());

describe('CloudWatch engine against the emulator', () => {
  test('N series × S statistics take exactly ceil(N·S/500) GetMetricData requests', async () => {
    for (const [functions, metric] of [
      [1, 'aws.lambda.invocations'],
      [3, 'aws.lambda.duration*'],
      [60, 'aws.lambda.duration*'],
      [520, 'aws.lambda.invocations'],
      [600, 'aws.lambda.duration*'],
    ] as const) {
      const s = await startEmulatedCollection({
        world: bareWorld({ functions }),
        confs: { amazon_lambda: `    regions: [us-east-1]\n    metrics: {include: ["${metric}"]}\n` },
      });
      try {
        const cloudWatchName = metric.startsWith('aws.lambda.duration') ? 'Duration' : 'Invocations';
        const statistics = cloudWatchName === 'Duration' ? 9 : 1;
        const series = s.emulator.world
          .series({ region: 'us-east-1', namespace: 'AWS/Lambda' })
          .filter((x) => x.metricName === cloudWatchName && lambdaScope(x) === 'function');
        const queries = series.length * statistics;
        const [outcome] = await s.harness.runAll();
        assert.ok(outcome!.ok, outcome!.error);
        const requests = s.emulator.accounting.requests({ operation: 'GetMetricData' });
        assert.equal(
          requests,
          Math.ceil(queries / 500),
          `${queries} queries (${series.length} series × ${statistics})`,
        );
        assert.equal(s.emulator.accounting.snapshot().metricsRequested, queries);
      } finally {
        await s.close();
      }
    }
  });

  test('instances running together share requests: ceil(all their queries / 500), each point still once', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 30, restApis: 4, rekognitionOperations: 6 }),
      confs: {
        amazon_lambda: '    regions: [us-east-1]\n',
        amazon_api_gateway: '    regions: [us-east-1]\n',
        amazon_rekognition: '    regions: [us-east-1]\n',
      },
    });
    try {
      const accounting = s.emulator.accounting;
      const counts = () => ({
        requests: accounting.requests({ operation: 'GetMetricData' }),
        queries: accounting.snapshot().metricsRequested,
      });
      // One at a time: each instance sends its own partial batch.
      for (const outcome of await s.harness.runAll()) assert.ok(outcome.ok, outcome.error);
      const alone = counts();
      s.clock.advance(2 * MINUTE);
      for (const outcome of await s.harness.runAllConcurrently()) assert.ok(outcome.ok, outcome.error);
      const together = counts();
      const requests = together.requests - alone.requests;
      const queries = together.queries - alone.queries;
      assert.ok(
        alone.requests >= 3 && alone.requests > Math.ceil(alone.queries / 500),
        JSON.stringify(alone),
      );
      assert.equal(requests, Math.ceil(queries / 500), `${queries} queries of 3 instances together`);
      await s.settle();
      const seen = new Set<string>();
      for (const line of s.lines()) {
        if (line.timestamp === undefined) continue;
        const key = `${line.metric}|${line.tags.join(',')}|${line.timestamp}`;
        assert.ok(!seen.has(key), `sent twice: ${key}`);
        seen.add(key);
      }
      assert.ok(seen.size > 100, `${seen.size} points`);
    } finally {
      await s.close();
    }
  });

  test('over 10 periods the emitted points equal the world exactly: every point once, exact values and timestamps', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ regions: ['us-east-1', 'eu-west-1'], functions: 4, rekognitionOperations: 5 }),
      confs: {
        amazon_lambda: '    regions: [us-east-1, eu-west-1]\n',
        amazon_rekognition: '    regions: [us-east-1, eu-west-1]\n',
      },
    });
    try {
      for (let run = 0; run < 10; run++) {
        await runAllOk(s);
        s.clock.advance(MINUTE);
      }
      await s.settle();
      // delay 120 s, lookback one period: the first window starts 3 minutes before T0.
      const fromMs = T0 - 3 * MINUTE;
      const toMs = T0 + 9 * MINUTE - 2 * MINUTE;
      const world = s.emulator.world;
      const lines = s.lines();
      for (const [check, namespace, scopeOf, keys] of [
        ['amazon_lambda', 'AWS/Lambda', lambdaScope, ['functionname', 'region']],
        ['amazon_rekognition', 'AWS/Rekognition', () => 'operation', ['operation', 'region']],
      ] as const) {
        const expected = expectedPoints({
          world,
          series: world.series({ account: DEFAULT_ACCOUNT, namespace }),
          rows: metricTable(check),
          scopeOf,
          identity: seriesIdentity,
          fromMs,
          toMs,
        });
        const prefix = check === 'amazon_lambda' ? 'aws.lambda.' : 'aws.rekognition.';
        assert.ok(expected.size > 500, `a meaningful world (${expected.size} points)`);
        assertEachPointOnce(
          expected,
          lines.filter((l) => l.metric.startsWith(prefix)),
          keys,
          check,
        );
      }
    } finally {
      await s.close();
    }
  });

  test('late points are emitted once they are published, never before, and never twice', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ rekognitionOperations: 4 }),
      // Up to 11 minutes late, far beyond the 60 s delay: most periods are re-asked a few times.
      emulator: { publicationDelay: { baseSeconds: 30, jitterSeconds: 630 } },
      confs: { amazon_rekognition: '    regions: [us-east-1]\n    delay: 60\n    late_horizon: 900\n' },
    });
    try {
      const world = s.emulator.world;
      const series = world.series({ namespace: 'AWS/Rekognition' });
      const keys = ['operation', 'region'];
      const fromMs = T0 - 2 * MINUTE;
      for (let run = 0; run < 25; run++) {
        await runAllOk(s);
        await s.settle();
        // Everything emitted so far was visible in CloudWatch at this moment.
        const visible = rekognitionTruth(world, fromMs, s.clock.now(), s.clock.now());
        const early = diffPoints(visible, s.lines(), keys);
        assert.deepEqual(early.unexpected, [], `run ${run}: points emitted before CloudWatch published them`);
        assert.deepEqual(early.duplicated, [], `run ${run}: duplicates`);
        s.clock.advance(MINUTE);
      }
      // At the end, every point published by now and inside the windows was emitted exactly once.
      const now = s.clock.now() - MINUTE;
      const expected = rekognitionTruth(world, fromMs, Math.floor((now - 60_000) / MINUTE) * MINUTE, now);
      const diff = diffPoints(expected, s.lines(), keys);
      assert.deepEqual(diff.missing, []);
      assert.deepEqual(diff.duplicated, []);
      assert.deepEqual(diff.wrongValue, []);
      const reasked = s.emulator.accounting.snapshot().metricsRequested / (25 * series.length * 2);
      assert.ok(
        reasked <= 1.01,
        `late periods are re-asked inside the same request, not in extra ones (${reasked})`,
      );
    } finally {
      await s.close();
    }
  });

  test('polling every 5 periods emits all 5 points per series per run, at a fifth of the cost', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ rekognitionOperations: 3 }),
      confs: { amazon_rekognition: '    regions: [us-east-1]\n    min_collection_interval: 300\n' },
    });
    try {
      const world = s.emulator.world;
      const series = world.series({ namespace: 'AWS/Rekognition' });
      const rows = metricTable('amazon_rekognition');
      const queries = series.reduce(
        (n, x) => n + rows.filter((r) => r.cloudwatchMetric === x.metricName).length,
        0,
      );
      const keys = ['operation', 'region'];
      const window = (fromMs: number, toMs: number): Map<string, number> =>
        rekognitionTruth(world, fromMs, toMs);
      await s.harness.runAll();
      await s.settle();
      let seen = s.lines().length;
      const requestedAfterFirst = s.emulator.accounting.snapshot().metricsRequested;
      for (let run = 1; run <= 4; run++) {
        s.clock.advance(5 * MINUTE);
        await s.harness.runAll();
        await s.settle();
        const fresh = s.lines().slice(seen);
        seen += fresh.length;
        // This run's window is the 5 periods since the previous one: all of them, nothing else.
        const end = T0 + run * 5 * MINUTE - 2 * MINUTE;
        const expected = window(end - 5 * MINUTE, end);
        assert.ok(expected.size >= 5 * series.length, 'five points per series');
        assertEachPointOnce(
          expected,
          fresh.filter((l) => l.timestamp !== undefined),
          keys,
        );
      }
      // Four runs asked each query once: the cost of 4 polls, not of 20.
      const perRun = (s.emulator.accounting.snapshot().metricsRequested - requestedAfterFirst) / 4;
      assert.equal(perRun, queries);
      const all = window(T0 - 3 * MINUTE, T0 + 20 * MINUTE - 2 * MINUTE);
      assertEachPointOnce(all, s.lines(), keys);
    } finally {
      await s.close();
    }
  });

  test('a restart resumes from the persisted watermarks: no gap, no duplicate', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ rekognitionOperations: 3 }),
      confs: { amazon_rekognition: '    regions: [us-east-1]\n' },
    });
    try {
      for (let run = 0; run < 6; run++) {
        if (run === 3) await s.harness.restart();
        await s.harness.runAll();
        s.clock.advance(MINUTE);
      }
      // Down for 5 minutes, then back: the gap is caught up in one run.
      await s.harness.restart();
      s.clock.advance(5 * MINUTE);
      await s.harness.runAll();
      await s.settle();
      const world = s.emulator.world;
      const expected = rekognitionTruth(world, T0 - 3 * MINUTE, T0 + 11 * MINUTE - 2 * MINUTE);
      assertEachPointOnce(expected, s.lines(), ['operation', 'region']);
    } finally {
      await s.close();
    }
  });
  test('discovery keeps only the series an enabled scope collects (not every version and alias listed)', async () => {
    const s = await startShortTtlLambda();
    try {
      await runAllOk(s);
      const listed = new CloudWatchClient({ region: 'us-east-1', endpoint: s.endpoint });
      const { Metrics = [] } = await listed.send(
        new ListMetricsCommand({ Namespace: 'AWS/Lambda', MetricName: 'Invocations' }),
      );
      // Per function and for the account: the default scopes. The world lists Invocations per version
      // and per alias too, which they do not collect.
      const scoped = Metrics.filter((m) => (m.Dimensions ?? []).length <= 1);
      assert.ok(Metrics.length > scoped.length && scoped.length === 4, `${Metrics.length} listed`);
      const engine = (s.harness.runners[0] as unknown as { check: { engine: CloudWatchEngine } }).check
        .engine;
      const discovery = (engine as unknown as { discovery: { series: { loaded(): Map<string, Series[]> } } })
        .discovery;
      const kept = discovery.series.loaded().get('us-east-1') ?? [];
      assert.deepEqual(
        kept.map((series) => series.key).sort(),
        scoped
          .map((m) => `Invocations|${(m.Dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join()}`)
          .sort(),
      );
      const planned = new Set(regionPlan(s, 'us-east-1')!.queries.map((q) => q.series));
      assert.equal(planned.size, 3, 'one per function');
      for (const series of planned)
        assert.ok(kept.includes(series), `${series.key} planned from what was kept`);
    } finally {
      await s.close();
    }
  });
  test('a plan rebuilt after a discovery refresh shares the store’s id strings (no second copy per query)', async () => {
    const s = await startShortTtlLambda();
    try {
      const planOf = (): PlanView | undefined => regionPlan(s, 'us-east-1');
      await runAllOk(s);
      const first = planOf();
      assert.ok(first && first.queries.length > 0);
      // Past the TTL the refresh runs in the background; a later run builds the new plan from it.
      for (let run = 0; run < 5 && planOf() === first; run++) {
        s.clock.advance(2 * MINUTE);
        await runAllOk(s);
      }
      const rebuilt = planOf()!;
      assert.notEqual(rebuilt, first, 'the discovery refresh rebuilt the plan');
      const id = rebuilt.queries.find((q) => q.emitted)!.id;
      assert.equal(await countHeapStrings(id), 1, `copies of ${id} in the heap`);
    } finally {
      await s.close();
    }
  });

  test('a discovery refresh keeps the planned queries of what stayed the same and plans anew what changed', async () => {
    const s = await startShortTtlLambda();
    try {
      await runAllOk(s);
      const first = regionPlan(s, 'us-east-1')!;
      const [retagged] = s.emulator.world.functions(DEFAULT_ACCOUNT, 'us-east-1');
      assert.ok(retagged);
      (retagged as { tags: Record<string, string> }).tags = { ...retagged.tags, team: 'moved' };
      for (let run = 0; run < 5 && regionPlan(s, 'us-east-1') === first; run++) {
        s.clock.advance(2 * MINUTE);
        await runAllOk(s);
      }
      const rebuilt = regionPlan(s, 'us-east-1')!;
      assert.notEqual(rebuilt, first, 'the discovery refresh rebuilt the plan');
      const ofRetagged = (q: PlannedView): boolean =>
        q.series.dimensions.some((d) => d.Name === 'FunctionName' && d.Value === retagged.name);
      const before = new Set(first.queries);
      const stayed = rebuilt.queries.filter((q) => !ofRetagged(q));
      const changed = rebuilt.queries.filter(ofRetagged);
      assert.ok(stayed.length > 0 && changed.length > 0);
      assert.equal(stayed.filter((q) => !before.has(q)).length, 0, 'an unchanged query was planned again');
      assert.equal(changed.filter((q) => before.has(q)).length, 0, 'a retagged query kept its old tags');
      for (const q of changed) assert.ok(q.tags.tags.includes('team:moved'), q.tags.tags.join(','));
      const ids = rebuilt.queries.map((q) => q.Id);
      assert.equal(new Set(ids).size, ids.length, 'GetMetricData query Ids unique within the plan');
      // Kept and new queries alike collect every point once, across the rebuild.
      s.clock.advance(2 * MINUTE);
      const lastRunAt = s.clock.now();
      await runAllOk(s);
      await s.settle();
      const world = s.emulator.world;
      const expected = expectedPoints({
        world,
        series: world.series({ account: DEFAULT_ACCOUNT, namespace: 'AWS/Lambda' }),
        rows: metricTable('amazon_lambda').filter((r) => r.metricName === 'aws.lambda.invocations'),
        scopeOf: lambdaScope,
        identity: seriesIdentity,
        fromMs: T0 - 3 * MINUTE,
        toMs: lastRunAt - 2 * MINUTE,
      });
      assert.ok(expected.size > 20, `a meaningful world (${expected.size} points)`);
      assertEachPointOnce(expected, s.lines(), ['functionname', 'region']);
    } finally {
      await s.close();
    }
  });

  test('discovery pages within the emulator’s quotas: nothing throttled at 1,500 functions', async () => {
    // 15 Tagging API pages (100 a page, 5 a second), 30 ListFunctions pages (50 a page, 15 a second
    // shared by Lambda's control plane), ListMetrics pages: a limiter above a quota gets throttled and,
    // past the SDK's attempts, fails the run.
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 1500 }),
      confs: {
        amazon_lambda: '    regions: [us-east-1]\n    metrics: {include: [aws.lambda.invocations]}\n',
      },
    });
    try {
      await runAllOk(s);
      const accounting = s.emulator.accounting;
      assert.ok(accounting.requests({ operation: 'GetResources' }) >= 15);
      const throttled = accounting
        .snapshot()
        .requests.filter((r) => r.outcome === 'throttled')
        .map((r) => `${r.operation}: ${r.count}`);
      assert.deepEqual(throttled, []);
    } finally {
      await s.close();
    }
  });

  test('refreshes that finish in different runs rebuild the plan once, when the last is in', async () => {
    const s = await startShortTtlLambda();
    try {
      await runAllOk(s);
      const first = regionPlan(s, 'us-east-1');
      assert.ok(first);
      // Past the TTL: this run starts the three refreshes. ListMetrics is held 2 s (it is the slow one
      // at scale); ListFunctions and the Tagging API answer at once.
      s.emulator.setFaults({ rules: [{ kind: 'timeout', operation: 'ListMetrics', holdMs: 2000 }] });
      s.clock.advance(2 * MINUTE);
      await runAllOk(s);
      await sleep(500);
      // Inventory and tags are in, discovery is not: the old plan serves this run.
      await runAllOk(s);
      assert.equal(regionPlan(s, 'us-east-1'), first, 'rebuilt before the discovery refresh was in');
      await sleep(2000);
      await runAllOk(s);
      const rebuilt = regionPlan(s, 'us-east-1');
      assert.notEqual(rebuilt, first, 'not rebuilt once every refresh was in');
      await runAllOk(s);
      assert.equal(regionPlan(s, 'us-east-1'), rebuilt, 'rebuilt again with nothing new');
    } finally {
      await s.close();
    }
  });
});

/** Three functions, one metric, discovery cached for 60 s: every run two minutes apart refreshes. */
function startShortTtlLambda(): Promise<EmulatedCollection> {
  return startEmulatedCollection({
    world: bareWorld({ functions: 3 }),
    confs: {
      amazon_lambda:
        '    regions: [us-east-1]\n    discovery_ttl: 60\n    metrics: {include: [aws.lambda.invocations]}\n',
    },
  });
}

async function runAllOk(s: EmulatedCollection): Promise<void> {
  for (const outcome of await s.harness.runAll()) assert.ok(outcome.ok, outcome.error);
}

interface PlannedView {
  readonly id: string;
  readonly emitted: boolean;
  readonly series: Series;
  readonly tags: { readonly tags: readonly string[] };
  readonly Id: string;
}

interface PlanView {
  readonly queries: readonly PlannedView[];
}

/** The engine's current plan for a region (read for identity: rebuilt or not). */
function regionPlan(s: EmulatedCollection, region: string): PlanView | undefined {
  const check = (s.harness.runners[0] as unknown as { check: { engine: CloudWatchEngine } }).check;
  return check.engine.plans().get(region);
}

describe('advanceWatermark', () => {
  const P = MINUTE;
  test('moves past emitted periods and old gaps, stops at the first period that may still arrive', () => {
    const now = 100 * P;
    // Periods 80..89: 80, 81 emitted; 82 missing but older than the 15-minute horizon; 86 missing, recent.
    const emitted = new Set([80, 81, 83, 84, 85, 87].map((m) => m * P));
    const result = advanceWatermark({ w: 80 * P, seen: [] }, emitted, 90 * P, now, P, 15 * P);
    assert.equal(result.w, 86 * P);
    assert.deepEqual(result.seen, [87 * P]);
  });

  test('reaches the window end when everything arrived', () => {
    const emitted = new Set([10, 11, 12].map((m) => m * P));
    assert.deepEqual(advanceWatermark({ w: 10 * P, seen: [] }, emitted, 13 * P, 20 * P, P, 5 * P), {
      w: 13 * P,
      seen: [],
    });
  });
});

/** Every expected point arrived once, with its value, and nothing else did. */
