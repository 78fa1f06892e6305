/**
 * Deployment events (issue 16) against the emulator over real sockets: CloudTrail events of the world's
 * scheduled deployments, delivered minutes late, read under 30 % throttling, across a restart and a
 * DogStatsD outage, arrive exactly once as valid DogStatsD events; nothing from other regions or
 * operations (reads, tagging). Figures are printed as `# deployment events: …`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scheduledTrailEvents } from '../../emulator/index.js';
import { DEFAULT_ACCOUNT } from '../../emulator/world.js';
import { useEmulatorCredentials } from '../support/collection-harness.js';
import { validateDatagram } from '../support/dogstatsd-validator.js';
import { UDP_MAX_DATAGRAM_BYTES } from '../support/dogstatsd-listener.js';
import { bareWorld, MINUTE, startEmulatedCollection, T0 } from '../support/emulated-collection.js';
import { expectedEvent, isDeploymentEvent, type ParsedEvent, tallyEvents } from '../support/trail-truth.js';

const figures: string[] = [];
before(() => useEmulatorCredentials());
after(() => {
  for (const line of figures) console.log(`# deployment events: ${line}`);
});

describe('deployment events from CloudTrail, exactly once', () => {
  test('40 minutes of deployments, late deliveries, 30 % throttling, a restart and a DogStatsD outage', async () => {
    const lookbackS = 1800;
    const s = await startEmulatedCollection({
      // A Lambda@Edge master in us-east-1 replicated to eu-west-1 (a region of the Lambda instance);
      // us-west-2 is in no instance: nothing of it may arrive.
      world: bareWorld({
        regions: ['us-east-1', 'eu-west-1', 'us-west-2'],
        functions: 3,
        edgeFunctions: 1,
        edgeReplicaRegions: ['eu-west-1'],
        restApis: 1,
        httpApis: 1,
      }),
      emulator: { publicationDelay: { baseSeconds: 0, jitterSeconds: 0 } },
      sink: { flushTimeoutMs: 300, reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 100 },
      confs: {
        amazon_lambda:
          '    regions: [us-east-1, eu-west-1]\n    collect_deployment_events: true\n' +
          `    lookback: ${lookbackS}\n    tags: ["team:deploys"]\n    metrics: {include: ["aws.lambda.invocations"]}\n`,
        amazon_api_gateway:
          '    regions: [us-east-1]\n    collect_deployment_events: true\n' +
          `    lookback: ${lookbackS}\n    metrics: {include: ["aws.apigateway.count"]}\n`,
      },
    });
    try {
      s.emulator.setFaults({ seed: 16, rules: [{ kind: 'throttle', rate: 0.3, service: 'cloudtrail' }] });
      const down = new Set([12, 13, 14, 15]);
      const runs = 40;
      const restartAt = 24;
      for (let run = 0; run < runs; run++) {
        if (down.has(run) && !down.has(run - 1)) await s.listener.goDown();
        if (!down.has(run) && down.has(run - 1)) await s.listener.comeBack();
        if (run === restartAt) await s.harness.restart();
        await s.harness.runAllConcurrently();
        s.clock.advance(MINUTE);
      }
      await s.settle();
      const lastRunMs = T0 + (runs - 1) * MINUTE;
      const world = s.emulator.world;
      const expected = new Map<string, ParsedEvent>();
      const lambdaRegions = ['us-east-1', 'eu-west-1'];
      for (const region of lambdaRegions) {
        for (const e of scheduledTrailEvents(world, DEFAULT_ACCOUNT, region, lastRunMs)) {
          if (!isDeploymentEvent(e)) continue;
          if (e.timeMs < T0 - lookbackS * 1000 || e.visibleAtMs > lastRunMs) continue;
          const lambda = e.eventSource === 'lambda.amazonaws.com';
          if (!lambda && region !== 'us-east-1') continue;
          const tags = lambda ? ['team:deploys'] : [];
          expected.set(e.id, expectedEvent(world, e, region, tags, lambdaRegions));
        }
      }
      const invalid: string[] = [];
      const lines: string[] = [];
      for (const datagram of s.listener.datagrams) {
        if (!datagram.includes('_e{')) continue;
        invalid.push(...validateDatagram(datagram, UDP_MAX_DATAGRAM_BYTES));
        lines.push(...datagram.toString('utf8').split('\n'));
      }
      const { received, missing, duplicated, strays } = tallyEvents(lines, expected);
      const throttled = s.emulator.accounting.requests({ operation: 'LookupEvents', outcome: 'throttled' });
      const lookups = s.emulator.accounting.requests({ operation: 'LookupEvents' });
      figures.push(
        `${lookups} LookupEvents calls, ${throttled} throttled; ${expected.size} expected, ${received.size} received, ${missing.length} missing, ` +
          `${duplicated.length} duplicated, ${strays.length} from outside the configuration`,
      );
      assert.ok(throttled > 0, 'LookupEvents was throttled');
      assert.ok(expected.size >= 15, `the world deployed (${expected.size} events)`);
      const apiEvents = [...expected.values()].filter((e) => e.sourceType === 'amazon_api_gateway').length;
      assert.ok(apiEvents >= 3, `APIs were deployed (${apiEvents} events)`);
      // The joins with the inventory are exercised: API names, and the edge master's replicas.
      const tagged = (prefix: string): number =>
        [...expected.values()].filter((e) => e.tags.some((t) => t.startsWith(prefix))).length;
      assert.ok(tagged('apiname:') >= 3 && tagged('edge_master_name:') >= 2, 'apiname and edge_master_name');
      assert.deepEqual(invalid, []);
      assert.deepEqual(missing, []);
      assert.deepEqual(duplicated, []);
      assert.deepEqual(
        strays.map((e) => e.title),
        [],
      );
      for (const [id, [got]] of received) {
        const want = expected.get(id)!;
        assert.equal(got!.title, want.title, id);
        assert.equal(got!.timestamp, want.timestamp, id);
        assert.equal(got!.alertType, want.alertType, id);
        assert.equal(got!.sourceType, want.sourceType, id);
        assert.deepEqual([...got!.tags].sort(), want.tags, id);
        assert.match(got!.text, /by arn:aws:sts::\d+:assumed-role\/deploy-bot\/zoë\.müller@example\.com/);
        assert.doesNotMatch(got!.text, /ASIA|functionArn|requestParameters/);
      }
    } finally {
      await s.close();
    }
  });
});

describe('deployment events: paging, the page cap and the 18 h age limit', () => {
  test('a backlog of many pages is read 2 pages a run, resumed where it stopped across a restart: every event once, none older than 18 h', async () => {
    const maxPages = 2;
    const lookbackS = 20 * 3600;
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 3, createdAtMs: T0 - 22 * 3600_000 }),
      confs: {
        amazon_lambda:
          '    regions: [us-east-1]\n    collect_deployment_events: true\n' +
          `    lookback: ${lookbackS}\n    metrics: {include: ["aws.lambda.invocations"]}\n`,
      },
      cloudWatch: { client: { maxAttempts: 4 }, maxPagesPerRead: maxPages },
    });
    try {
      const world = s.emulator.world;
      const lookups = (): number => s.emulator.accounting.requests({ operation: 'LookupEvents' });
      const received = (): number => s.listener.lines().filter((l) => l.startsWith('_e{')).length;
      const perRun: { lookups: number; events: number }[] = [];
      const runs = 14;
      for (let run = 0; run < runs; run++) {
        if (run === 3) await s.harness.restart();
        const [callsBefore, eventsBefore] = [lookups(), received()];
        await s.harness.runAllConcurrently();
        await s.settle();
        perRun.push({ lookups: lookups() - callsBefore, events: received() - eventsBefore });
        s.clock.advance(MINUTE);
      }
      const lastRunMs = T0 + (runs - 1) * MINUTE;
      const all = scheduledTrailEvents(world, DEFAULT_ACCOUNT, 'us-east-1', lastRunMs);
      const pages = Math.ceil(all.filter((e) => e.timeMs >= T0 - 18 * 3600_000).length / 50);
      const expected = new Map<string, ParsedEvent>();
      const optional = new Set<string>();
      for (const e of all) {
        if (!isDeploymentEvent(e) || e.visibleAtMs > lastRunMs) continue;
        // The age limit moves with each run's now: the band it swept over while catching up may be sent.
        if (e.timeMs >= lastRunMs - 18 * 3600_000)
          expected.set(e.id, expectedEvent(world, e, 'us-east-1', []));
        else if (e.timeMs >= T0 - 18 * 3600_000) optional.add(e.id);
      }
      const tally = tallyEvents(s.listener.lines(), expected, optional);
      figures.push(
        `paging: ${pages} pages of backlog read ${maxPages} a run (a restart after the 3rd run), ` +
          `LookupEvents per run ${perRun.map((r) => r.lookups).join(',')}; ${expected.size} expected ` +
          `(+${optional.size} at the age limit), ${tally.received.size} received, ${tally.missing.length} missing, ` +
          `${tally.duplicated.length} duplicated, ${tally.strays.length} older than 18 h or foreign`,
      );
      assert.ok(pages >= 6, `a backlog of ${pages} pages`);
      assert.equal(perRun[0]!.lookups, maxPages, 'the first run stopped at the page cap');
      assert.ok(perRun[0]!.events > 0, 'and sent what it read');
      // Each run went on where the previous one (or the process before the restart) stopped.
      const backlogRuns = perRun.findIndex((r) => r.lookups < maxPages) + 1;
      assert.ok(
        backlogRuns > 1 && backlogRuns <= Math.ceil(pages / maxPages) + 1,
        `${pages} pages read in ${backlogRuns} runs`,
      );
      // Caught up, each run reads the last 30 minutes again (one page), never the backlog once more.
      assert.deepEqual(
        perRun.slice(-3).map((r) => r.lookups),
        [1, 1, 1],
      );
      assert.deepEqual(tally.missing, []);
      assert.deepEqual(tally.duplicated, []);
      // Events of the world between 18 and 20 hours old (the lookback reaches them) are never sent.
      const tooOld = all.filter((e) => isDeploymentEvent(e) && e.timeMs < T0 - 18 * 3600_000).length;
      assert.ok(tooOld > 0, 'the world has events older than 18 h in the lookback');
      assert.deepEqual(
        tally.strays.map((e) => e.title),
        [],
      );
    } finally {
      await s.close();
    }
  });
});
