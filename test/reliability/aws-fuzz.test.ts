/**
 * Fuzzes the AWS side: the emulator's `mutateResponse` hook corrupts GetMetricData and ListMetrics answers
 * (malformed JSON, NaN / Infinity / 1e400, wrong types, mismatched lengths, unknown and duplicate Ids,
 * an empty body, an HTML page with 200) during one run of the amazon_rekognition check, driven through
 * the daemon's run path (CollectionHarness → InstanceRunner → DogStatsdSink → a real UDP listener).
 *
 * Properties, per fault:
 * - the run returns an outcome (never throws past the runner);
 * - the bad part is reported: a status warning, or can_connect CRITICAL with a message;
 * - for a fault in one query's part, the other queries' points are still emitted in that run;
 * - every datagram is valid DogStatsD, with no NaN / Infinity on the wire;
 * - once the fault is gone, the following runs emit every point of the world exactly once: nothing
 *   missing, nothing duplicated, nothing invented (a corrupt window is fetched again, never skipped).
 *
 * Prints `# aws fuzz: <faults> faults survived, <points> points checked, <lost> lost, <dup> duplicated`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import type { RunOutcome } from '../../core/runtime/instance-runner.js';
import { AwsEmulator, type FaultTarget, type WorldOptions } from '../../emulator/index.js';
import { CollectionHarness, useEmulatorCredentials } from '../support/collection-harness.js';
import { sinkFor, TempWorkspace, testSettings } from '../support/daemon-harness.js';
import { startUdpListener, type UdpListener } from '../support/dogstatsd-listener.js';
import { assertValidDatagram } from '../support/dogstatsd-validator.js';
import { bareWorld, MINUTE, seriesIdentity, T0 } from '../support/emulated-collection.js';
import {
  diffPoints,
  expectedPoints,
  metricTable,
  parseMetricLine,
  type ParsedMetricLine,
} from '../support/world-truth.js';

const WORLD: WorldOptions = bareWorld({ rekognitionOperations: 3 });

const identity = seriesIdentity;

type Json = Record<string, unknown>;

interface Fault {
  readonly name: string;
  readonly operation: 'GetMetricData' | 'ListMetrics';
  /** True when only one query's part is corrupt: the other parts must still be emitted. */
  readonly partial: boolean;
  /** The corruption changes nothing that is emitted, so the run need not report it. */
  readonly harmless?: boolean;
  /** Set when a property is known not to hold (a core bug): the test is reported as todo. */
  readonly todo?: string;
  readonly mutate: (body: string) => string;
}

/** Rewrites the parsed body; the result is re-serialised (or returned as raw text). */
const onJson =
  (edit: (body: Json) => Json | string) =>
  (text: string): string => {
    const edited = edit(JSON.parse(text) as Json);
    return typeof edited === 'string' ? edited : JSON.stringify(edited);
  };
/** Edits the first result that holds datapoints, only. */
const onFirstResult = (edit: (result: Json) => Json): ((text: string) => string) =>
  onJson((body) => {
    const results = body.MetricDataResults as Json[];
    const index = results.findIndex((r) => (r.Values as unknown[]).length > 0);
    if (index >= 0) results[index] = edit({ ...results[index]! });
    return body;
  });
/** Replaces the first value of the first non-empty result with raw JSON text (NaN, 1e400 …). */
const rawFirstValue = (raw: string) =>
  onJson((body) => {
    const results = body.MetricDataResults as { Values: number[] }[];
    const target = results.find((r) => r.Values.length > 0);
    if (!target) return body;
    target.Values[0] = 123456.789;
    return JSON.stringify(body).replace('123456.789', raw);
  });

const FAULTS: readonly Fault[] = [
  {
    name: 'malformed JSON (truncated)',
    operation: 'GetMetricData',
    partial: false,
    mutate: (b) => b.slice(0, Math.floor(b.length / 2)),
  },
  { name: 'empty body', operation: 'GetMetricData', partial: false, mutate: () => '' },
  {
    name: 'HTML error page with 200',
    operation: 'GetMetricData',
    partial: false,
    mutate: () => '<html><body><h1>502 Bad Gateway</h1></body></html>',
  },
  { name: 'JSON null', operation: 'GetMetricData', partial: false, mutate: () => 'null' },
  { name: 'JSON array', operation: 'GetMetricData', partial: false, mutate: () => '[1,2,3]' },
  {
    name: 'MetricDataResults missing',
    operation: 'GetMetricData',
    partial: false,
    mutate: onJson(() => ({})),
  },
  {
    name: 'MetricDataResults a string',
    operation: 'GetMetricData',
    partial: false,
    mutate: onJson(() => ({ MetricDataResults: 'nope' })),
  },
  // NaN and Infinity are not JSON: the whole body is unreadable, so nothing of it can be used.
  { name: 'raw NaN token', operation: 'GetMetricData', partial: false, mutate: rawFirstValue('NaN') },
  {
    name: 'raw Infinity token',
    operation: 'GetMetricData',
    partial: false,
    mutate: rawFirstValue('Infinity'),
  },
  {
    name: '1e400 (overflows to Infinity)',
    operation: 'GetMetricData',
    partial: true,
    mutate: rawFirstValue('1e400'),
  },
  { name: '-1e400', operation: 'GetMetricData', partial: true, mutate: rawFirstValue('-1e400') },
  {
    name: 'Values "NaN" strings',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Values: (r.Values as number[]).map(() => 'NaN') })),
  },
  {
    name: 'Values "Infinity" strings',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Values: (r.Values as number[]).map(() => 'Infinity') })),
  },
  {
    name: 'Values as numeric strings',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Values: (r.Values as number[]).map(String) })),
  },
  {
    name: 'Values a string',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Values: 'garbage' })),
  },
  {
    name: 'Values objects',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Values: (r.Values as number[]).map(() => ({ v: 1 })) })),
  },
  {
    name: 'Values missing',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Values: undefined })),
  },
  // The SDK refuses to deserialize a non-numeric epoch: the whole answer is unusable (the run fails).
  {
    name: 'Timestamps garbage strings',
    operation: 'GetMetricData',
    partial: false,
    mutate: onFirstResult((r) => ({ ...r, Timestamps: (r.Timestamps as number[]).map(() => 'garbage') })),
  },
  {
    name: 'Timestamps null entries',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Timestamps: (r.Timestamps as number[]).map(() => null) })),
  },
  {
    name: 'Timestamps missing',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Timestamps: undefined })),
  },
  {
    name: 'fewer Values than Timestamps',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Values: (r.Values as number[]).slice(1) })),
  },
  {
    name: 'more Values than Timestamps',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Values: [...(r.Values as number[]), 42] })),
  },
  {
    name: 'unknown query Id',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Id: 'zz_unknown' })),
  },
  {
    name: 'out-of-range query Id',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Id: 'q99999' })),
  },
  {
    name: 'Id a number',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, Id: 7 })),
  },
  {
    name: 'duplicate Ids (first result twice)',
    operation: 'GetMetricData',
    partial: true,
    // The two entries are identical and the emitted set dedupes them: harmless, so not reported.
    harmless: true,
    mutate: onJson((body) => {
      const results = body.MetricDataResults as Json[];
      return { ...body, MetricDataResults: [results[0]!, ...results] };
    }),
  },
  {
    name: 'StatusCode garbage',
    operation: 'GetMetricData',
    partial: true,
    mutate: onFirstResult((r) => ({ ...r, StatusCode: 'Exploded' })),
  },
  {
    name: 'ListMetrics malformed JSON',
    operation: 'ListMetrics',
    partial: false,
    mutate: (b) => b.slice(0, 10),
  },
  {
    name: 'ListMetrics HTML page',
    operation: 'ListMetrics',
    partial: false,
    mutate: () => '<html>oops</html>',
  },
  {
    name: 'ListMetrics Metrics a string',
    operation: 'ListMetrics',
    partial: false,
    mutate: onJson(() => ({ Metrics: 'x' })),
  },
  {
    name: 'ListMetrics dimensions wrongly typed',
    operation: 'ListMetrics',
    partial: false,
    mutate: onJson((body) => ({
      ...body,
      Metrics: (body.Metrics as Json[]).map((m, i) =>
        i === 0 ? { ...m, Dimensions: [{ Name: 5, Value: { x: 1 } }] } : m,
      ),
    })),
  },
];

interface Setup {
  readonly clock: ManualClock;
  readonly emulator: AwsEmulator;
  readonly listener: UdpListener;
  readonly harness: CollectionHarness;
  readonly workspace: TempWorkspace;
  close(): Promise<void>;
}

async function setup(): Promise<Setup> {
  const clock = new ManualClock(T0);
  // No publication delay: every point of a window is there when asked, so "fetched once" is exact.
  const emulator = new AwsEmulator({
    clock,
    world: WORLD,
    publicationDelay: { baseSeconds: 0, jitterSeconds: 0 },
    quotas: false,
  });
  const endpoint = await emulator.start();
  const listener = await startUdpListener();
  const workspace = new TempWorkspace();
  workspace.writeConf(
    'amazon_rekognition',
    `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1]\n`,
  );
  const settings = testSettings(workspace, { DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}` });
  const harness = new CollectionHarness({
    settings,
    clock,
    sink: sinkFor(settings),
    cloudWatch: { client: { maxAttempts: 1 } },
  });
  await harness.start();
  return {
    clock,
    emulator,
    listener,
    harness,
    workspace,
    async close() {
      await harness.stop();
      await listener.close();
      await emulator.stop();
      workspace.cleanup();
    },
  };
}

async function settle(listener: UdpListener): Promise<void> {
  let previous = -1;
  while (listener.datagrams.length !== previous) {
    previous = listener.datagrams.length;
    await new Promise((r) => setTimeout(r, 30));
  }
}

const metricLines = (lines: readonly string[]): ParsedMetricLine[] =>
  lines
    .map(parseMetricLine)
    .filter((l): l is ParsedMetricLine => l !== undefined && l.metric.startsWith('aws.rekognition.'));

const totals = { faults: 0, survived: 0, points: 0, lost: 0, lostKnown: 0, duplicated: 0, unexpected: 0 };
const notes: string[] = [];
/** Faults whose run stayed OK and said nothing. */
const unreported: string[] = [];

before(() => useEmulatorCredentials());
after(() => {
  console.log(
    `# aws fuzz: ${totals.survived}/${totals.faults} faults survived, ${totals.points} points checked, ` +
      `${totals.lost} lost (+${totals.lostKnown} in todo faults), ${totals.duplicated} duplicated, ${totals.unexpected} invented`,
  );
  for (const note of notes) console.log(`# aws fuzz: ${note}`);
});

describe('AWS response fuzz through the daemon run path', () => {
  for (const fault of FAULTS) {
    test(`${fault.operation}: ${fault.name}`, fault.todo ? { todo: fault.todo } : {}, async () => {
      totals.faults++;
      const s = await setup();
      try {
        // GetMetricData: run 1 clean, run 2 corrupt, runs 3-5 clean. ListMetrics is cached for
        // discovery_ttl, so its fault hits the first run (whose window is then never persisted).
        const faultAt = fault.operation === 'ListMetrics' ? 1 : 2;
        const outcomes: RunOutcome[] = [];
        let faultFrom = 0;
        let faultTo = 0;
        let mutated = 0;
        let warningsAfterFault: string[] = [];
        for (let run = 1; run <= 5; run++) {
          if (run === faultAt) {
            faultFrom = s.listener.lines().length;
            s.emulator.setFaults({
              mutateResponse: (target: FaultTarget, body: string) => {
                if (target.operation !== fault.operation) return undefined;
                mutated++;
                return fault.mutate(body);
              },
            });
          }
          const [outcome] = await s.harness.runAll();
          assert.ok(outcome, 'the runner returned an outcome');
          outcomes.push(outcome);
          if (run === faultAt) {
            s.emulator.clearFaults();
            await settle(s.listener);
            faultTo = s.listener.lines().length;
            warningsAfterFault = [
              ...s.harness.status.snapshot({ version: 't', sink: {} }).instances[0]!.warnings,
            ];
          }
          s.clock.advance(MINUTE);
        }
        await settle(s.listener);
        assert.ok(mutated > 0, 'the fault hit at least one response');

        // Reported: can_connect CRITICAL with a reason, or a status warning, for the fault run.
        const faultLines = s.listener.lines().slice(faultFrom, faultTo);
        const critical = faultLines.find((l) => l.startsWith('_sc|amazon_rekognition.can_connect|2|'));
        const faultRun = outcomes[faultAt - 1]!;
        if (faultRun.ok) {
          if (warningsAfterFault.length === 0 && !fault.harmless) unreported.push(fault.name);
        } else {
          assert.match(critical ?? '', /\|m:.+/, 'a failed run says why on can_connect');
          assert.match(faultRun.error ?? '', /\S/, 'the outcome carries the reason');
        }
        // Partial faults: the other queries' points of the fault run were emitted.
        if (fault.partial) {
          const emitted = metricLines(faultLines).filter((l) => l.timestamp !== undefined);
          assert.ok(emitted.length > 0, 'the good parts of the corrupt response were emitted');
        }
        const status = s.harness.status.snapshot({ version: 't', sink: {} }).instances[0]!;
        assert.equal(status.totalRuns, 5, 'every run was recorded');

        // Wire: every datagram valid, nothing non-finite.
        for (const datagram of s.listener.datagrams) {
          assertValidDatagram(datagram, 1432);
          assert.doesNotMatch(datagram.toString('utf8'), /:(-?nan|-?inf(inity)?)\|/i);
        }

        // Exactly once after recovery: the whole span of windows [T0 - 3 min, T0 + 5 min - 2 min).
        const world = s.emulator.world;
        const expected = expectedPoints({
          world,
          series: world.series({ namespace: 'AWS/Rekognition' }),
          rows: metricTable('amazon_rekognition'),
          scopeOf: () => 'operation',
          identity,
          // Even when the first run failed, collection starts where the daemon started.
          fromMs: T0 - 3 * MINUTE,
          toMs: T0 + 4 * MINUTE - 2 * MINUTE,
        });
        const diff = diffPoints(expected, metricLines(s.listener.lines()), ['operation', 'region']);
        totals.points += expected.size;
        if (fault.todo) totals.lostKnown += diff.missing.length;
        else totals.lost += diff.missing.length;
        totals.duplicated += diff.duplicated.length;
        totals.unexpected += diff.unexpected.length;
        assert.ok(expected.size > 30, `a meaningful world (${expected.size} points)`);
        assert.deepEqual(
          {
            missing: diff.missing.slice(0, 5),
            duplicated: diff.duplicated.slice(0, 5),
            unexpected: diff.unexpected.slice(0, 5),
            wrongValue: diff.wrongValue.slice(0, 5),
          },
          { missing: [], duplicated: [], unexpected: [], wrongValue: [] },
        );
        assert.ok(
          outcomes.slice(faultAt).every((o) => o.ok),
          `clean runs after the fault are OK: ${outcomes.map((o) => o.error ?? 'ok').join(' / ')}`,
        );
        totals.survived++;
      } finally {
        await s.close();
      }
    });
  }

  test(
    'every corrupt answer is reported (a warning or a failed run), even when it holds no result at all',
    {},
    () => {
      assert.deepEqual(unreported, []);
    },
  );
});
