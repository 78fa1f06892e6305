/**
 * Shared GetMetricData requests, through the real SDK client against the emulator over HTTP: partial
 * batches of instances running together go in the fewest requests, and each instance gets exactly what
 * its own request would have returned.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  CloudWatchClient,
  ListMetricsCommand,
  type Metric,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { AwsCallStats, awsCallScope } from '../../../core/aws/aws-call-stats.js';
import { useLeanCloudWatchCodec } from '../../../core/aws/lean-cloudwatch-codec.js';
import { ManualClock } from '../../../core/clock.js';
import { type FetchedMetricData, requestMetricData } from '../../../core/cloudwatch/metric-data-fetcher.js';
import { SharedMetricRequests } from '../../../core/cloudwatch/shared-metric-requests.js';
import { AwsEmulator } from '../../../emulator/index.js';
import { useEmulatorCredentials } from '../../support/collection-harness.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 30);
const MINUTE = 60_000;
const END = Math.floor((T0 - 2 * MINUTE) / MINUTE) * MINUTE;
const STATS = ['Sum', 'Average', 'Maximum', 'Minimum', 'SampleCount', 'p99', 'p90', 'p50'];
/** Long enough that a test which waited for it would time out: nothing here may wait for the bound. */
const NEVER_MS = 600_000;

describe('SharedMetricRequests', { timeout: 60_000 }, () => {
  let emulator: AwsEmulator;
  let client: CloudWatchClient;
  const metrics: Metric[] = [];
  before(async () => {
    useEmulatorCredentials();
    emulator = new AwsEmulator({
      world: {
        accounts: ['123456789012'],
        regions: ['us-east-1'],
        edgeReplicaRegions: [],
        functions: 12,
        createdAtMs: T0 - 6 * 3_600_000,
      },
      clock: new ManualClock(T0),
    });
    const endpoint = await emulator.start();
    client = new CloudWatchClient({ region: 'us-east-1', endpoint, maxAttempts: 1 });
    useLeanCloudWatchCodec(client);
    let token: string | undefined;
    do {
      const page = await client.send(new ListMetricsCommand({ Namespace: 'AWS/Lambda', NextToken: token }));
      metrics.push(...(page.Metrics ?? []));
      token = page.NextToken;
    } while (token);
    assert.ok(metrics.length * STATS.length >= 1_000, `${metrics.length} metrics`);
  });
  after(() => emulator.stop());

  /** `count` queries from `offset`, with Ids from q0 like every instance's plan (they collide across instances). */
  const queries = (offset: number, count: number): MetricDataQuery[] =>
    Array.from({ length: count }, (_, i) => {
      const n = offset + i;
      const metric = metrics[n % metrics.length]!;
      return {
        Id: `q${i}`,
        MetricStat: {
          Metric: { Namespace: 'AWS/Lambda', MetricName: metric.MetricName, Dimensions: metric.Dimensions },
          Period: 60,
          Stat: STATS[Math.floor(n / metrics.length) % STATS.length]!,
        },
        ReturnData: true,
      };
    });
  const requests = (): number => emulator.accounting.requests({ operation: 'GetMetricData', outcome: 'ok' });
  const alone = (q: MetricDataQuery[], startMs: number): Promise<FetchedMetricData> =>
    requestMetricData(client, q, startMs, END, new AbortController().signal, () => undefined);
  const inScope = <T>(stats: AwsCallStats, work: () => Promise<T>): Promise<T> =>
    awsCallScope.run({ stats }, work);

  test('three instances’ partial batches go in the fewest requests; each gets what its own request returns', async () => {
    const offers = [
      { q: queries(0, 300), startMs: END - 30 * MINUTE },
      { q: queries(300, 300), startMs: END - 10 * MINUTE },
      { q: queries(600, 150), startMs: END - 20 * MINUTE },
    ];
    const expected = await Promise.all(offers.map((o) => alone(o.q, o.startMs)));
    const shared = new SharedMetricRequests(NEVER_MS);
    const tickets = offers.map(() => shared.join(client));
    const stats = offers.map(() => new AwsCallStats());
    const before = requests();
    const got = await Promise.all(
      offers.map((o, i) =>
        inScope(stats[i]!, () => tickets[i]!.fetch(o.q, o.startMs, END, new AbortController().signal)),
      ),
    );
    assert.equal(requests() - before, 2, '750 queries: 2 requests, not 3');
    for (let i = 0; i < offers.length; i++) {
      assert.deepEqual(got[i]!.results, expected[i]!.results, `instance ${i}: the same points as alone`);
      assert.deepEqual(got[i]!.unknownIds, []);
      assert.equal(
        stats[i]!.metricsRequested,
        offers[i]!.q.length,
        `instance ${i}: its own metrics requested`,
      );
    }
    const points = got.reduce((n, g) => n + g.results.reduce((m, r) => m + r.timestamps.length, 0), 0);
    assert.ok(points > 1_000, `${points} points compared`);
  });

  test('an instance running alone does not wait; a full batch never waits', async () => {
    const shared = new SharedMetricRequests(NEVER_MS);
    const ticket = shared.join(client);
    const other = shared.join(client);
    const before = requests();
    // Full: goes at once although `other` has not offered.
    await ticket.fetch(queries(0, 500), END - 5 * MINUTE, END, new AbortController().signal);
    ticket.leave();
    other.leave();
    const lone = shared.join(client);
    await lone.fetch(queries(0, 40), END - 5 * MINUTE, END, new AbortController().signal);
    assert.equal(requests() - before, 2);
  });

  test('a partial batch waits for an instance that joined, and goes alone after the bound', async () => {
    const waiting = new SharedMetricRequests(NEVER_MS);
    const a = waiting.join(client);
    const b = waiting.join(client);
    const before = requests();
    const fetched = a.fetch(queries(0, 100), END - 5 * MINUTE, END, new AbortController().signal);
    await sleep(200);
    assert.equal(requests() - before, 0, 'held while b may still offer');
    await b.fetch(queries(100, 100), END - 5 * MINUTE, END, new AbortController().signal);
    await fetched;
    assert.equal(requests() - before, 1);

    const bounded = new SharedMetricRequests(50);
    const c = bounded.join(client);
    bounded.join(client); // discovers forever: never offers, never leaves
    const result = await c.fetch(queries(0, 10), END - 5 * MINUTE, END, new AbortController().signal);
    assert.equal(result.results.length, 10);
    assert.equal(requests() - before, 2);
  });

  test('an instance that announced its partial batch is waited for beyond the planning bound', async () => {
    const shared = new SharedMetricRequests(50);
    const small = shared.join(client);
    const large = shared.join(client);
    large.announce(); // planned; still fetching its full batches
    const before = requests();
    const fetched = small.fetch(queries(0, 100), END - 5 * MINUTE, END, new AbortController().signal);
    await sleep(300);
    assert.equal(requests() - before, 0, 'held past the 50 ms bound while the announced batch is awaited');
    await large.fetch(queries(100, 200), END - 5 * MINUTE, END, new AbortController().signal);
    await fetched;
    assert.equal(requests() - before, 1);
    // Announced, then no batch after all (it failed before sending): leaving releases the others.
    const c = shared.join(client);
    const d = shared.join(client);
    d.announce();
    const waiting = c.fetch(queries(0, 10), END - 5 * MINUTE, END, new AbortController().signal);
    d.leave();
    assert.equal((await waiting).results.length, 10);
    assert.equal(requests() - before, 2);
  });

  test('an aborted instance stops waiting; the others’ request goes without its queries', async () => {
    const shared = new SharedMetricRequests(NEVER_MS);
    const a = shared.join(client);
    const b = shared.join(client);
    const aborted = new AbortController();
    const before = requests();
    const gone = a.fetch(queries(0, 100), END - 5 * MINUTE, END, aborted.signal);
    aborted.abort(new Error('reload'));
    await assert.rejects(gone, /reload/);
    const got = await b.fetch(queries(100, 50), END - 5 * MINUTE, END, new AbortController().signal);
    assert.equal(got.results.length, 50);
    assert.equal(requests() - before, 1);
  });

  test('a settled offer lets go of its run’s signal (a signal can outlive its run)', async () => {
    const shared = new SharedMetricRequests(NEVER_MS);
    const a = shared.join(client);
    const b = shared.join(client);
    const c = shared.join(client);
    const [runA, runB, runC] = [new AbortController(), new AbortController(), new AbortController()];
    const fetchedA = a.fetch(queries(0, 100), END - 5 * MINUTE, END, runA.signal);
    assert.equal(getEventListeners(runA.signal, 'abort').length, 1, 'listening while it waits');
    const fetchedB = b.fetch(queries(100, 100), END - 5 * MINUTE, END, runB.signal);
    // c fails: its request is refused (a window end before its start), a and b are served.
    const failedC = c.fetch(queries(200, 10), END + 5 * MINUTE, END + MINUTE, runC.signal);
    await Promise.all([fetchedA, fetchedB, assert.rejects(failedC)]);
    for (const run of [runA, runB, runC]) assert.equal(getEventListeners(run.signal, 'abort').length, 0);
  });

  test('batches with different window ends are not mixed', async () => {
    const shared = new SharedMetricRequests(NEVER_MS);
    const a = shared.join(client);
    const b = shared.join(client);
    const before = requests();
    await Promise.all([
      a.fetch(queries(0, 100), END - 5 * MINUTE, END, new AbortController().signal),
      b.fetch(queries(100, 100), END - 6 * MINUTE, END - MINUTE, new AbortController().signal),
    ]);
    assert.equal(requests() - before, 2);
  });
});
