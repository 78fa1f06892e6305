import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ManualClock, ScaledClock } from '../../core/clock.js';
import { normalizeTag } from '../../core/check/normalize.js';
import { API_GATEWAY_KEYS, apiGatewayTruth } from '../support/check-truth.js';
import { AwsEmulator, DEFAULT_ACCOUNT, SMALL_WORLD, type Series } from '../../emulator/index.js';
import { CollectionHarness, useEmulatorCredentials } from '../support/collection-harness.js';
import { sinkFor, TempWorkspace, testSettings } from '../support/daemon-harness.js';
import { startUdpListener, type UdpListener } from '../support/dogstatsd-listener.js';
import { assertValidDatagram } from '../support/dogstatsd-validator.js';
import {
  diffPoints,
  expectedPoints,
  metricTable,
  parseMetricLine,
  type ParsedMetricLine,
} from '../support/world-truth.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1', 'us-west-2'];
const RUNS = 4;
const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));

const tagOf = (key: string, value: string): string => normalizeTag(`${key}:${value}`)!;
const identity = (series: Series): string[] => [
  ...series.dimensions.map((d) => tagOf(d.Name, d.Value)),
  `region:${series.region}`,
];
const dims = (s: Series): string =>
  s.dimensions
    .map((d) => d.Name)
    .sort()
    .join(',');

/** One collection of the whole `small` world by the three checks, shared by the tests below. */
let clock: ManualClock;
let emulator: AwsEmulator;
let listener: UdpListener;
let workspace: TempWorkspace;
let harness: CollectionHarness;
let lines: ParsedMetricLine[];
let endpoint: string;

before(async () => {
  useEmulatorCredentials();
  clock = new ManualClock(T0);
  emulator = new AwsEmulator({ clock, world: { ...SMALL_WORLD, createdAtMs: T0 - 6 * 3600_000 } });
  endpoint = await emulator.start();
  listener = await startUdpListener();
  workspace = new TempWorkspace();
  const instance = `instances:\n  - endpoint_url: ${endpoint}\n    regions: [${REGIONS.join(', ')}]\n`;
  for (const check of ['amazon_lambda', 'amazon_api_gateway', 'amazon_rekognition'])
    workspace.writeConf(check, instance);
  const settings = testSettings(workspace, { DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}` });
  harness = new CollectionHarness({ settings, clock, sink: sinkFor(settings) });
  await harness.start();
  for (let run = 0; run < RUNS; run++) {
    for (const outcome of await harness.runAll()) assert.ok(outcome.ok, outcome.error);
    clock.advance(MINUTE);
  }
  let previous = -1;
  while (listener.datagrams.length !== previous) {
    previous = listener.datagrams.length;
    await new Promise((r) => setTimeout(r, 100));
  }
  lines = listener
    .lines()
    .map(parseMetricLine)
    .filter((l): l is ParsedMetricLine => l !== undefined);
});

after(async () => {
  await harness.stop();
  await listener.close();
  await emulator.stop();
  workspace.cleanup();
});

/** The windows of RUNS runs from T0 with delay 120 s and a one-period first lookback. */
const FROM = T0 - 3 * MINUTE;
const TO = T0 + (RUNS - 1) * MINUTE - 2 * MINUTE;

function checkContract(check: string, prefix: string): void {
  const rows = metricTable(check);
  const byName = new Map(rows.map((r) => [r.metricName, r]));
  const mine = lines.filter((l) => l.metric.startsWith(prefix));
  assert.ok(mine.length > 0);
  for (const line of mine) {
    const row = byName.get(line.metric);
    assert.ok(row, `${line.metric} is not in checks/${check}/metadata.csv`);
    assert.equal(line.type, row.type === 'count' ? 'c' : 'g', `${line.metric} type`);
    assert.ok(line.tags.includes('host:'), 'AWS data carries an empty host');
    assert.ok(
      line.tags.some((t) => t.startsWith('region:')) && line.tags.includes(`aws_account:${DEFAULT_ACCOUNT}`),
    );
  }
  // Every CloudWatch metric of the contract that has data in the world is emitted.
  const emitted = new Set(mine.map((l) => l.metric));
  const missing = rows
    .filter((r) => r.cloudwatchMetric && !emitted.has(r.metricName))
    .map((r) => r.metricName);
  return assert.deepEqual(
    missing.filter((name) => !optInOnly(check, name)),
    [],
    `${check}: contract metrics never emitted`,
  );
}

/** Contract rows whose series are opt-in (not collected by the default instance of these tests). */
function optInOnly(check: string, name: string): boolean {
  return (
    check === 'amazon_lambda' &&
    metricTable(check).find((r) => r.metricName === name)?.scopes[0] === 'event_source_mapping'
  );
}

describe('amazon_lambda against the emulator', () => {
  test('emits only metadata.csv metrics, with the contract type, and every one that has data', () => {
    checkContract('amazon_lambda', 'aws.lambda.');
  });

  test('values and timestamps equal the world, once each; sums over series equal the world totals', () => {
    const world = emulator.world;
    const scopeOf = (s: Series): string | undefined =>
      dims(s) === 'FunctionName' ? 'function' : dims(s) === '' ? 'account' : undefined;
    const expected = expectedPoints({
      world,
      series: world.series({ account: DEFAULT_ACCOUNT, namespace: 'AWS/Lambda' }),
      rows: metricTable('amazon_lambda'),
      scopeOf,
      identity,
      fromMs: FROM,
      toMs: TO,
    });
    const mine = lines.filter((l) => l.metric.startsWith('aws.lambda.') && l.timestamp !== undefined);
    assert.deepEqual(diffPoints(expected, mine, ['functionname', 'region']), {
      missing: [],
      unexpected: [],
      duplicated: [],
      wrongValue: [],
    });
    // No double counting: sum(aws.lambda.invocations) per region and minute = the world's per-function sum.
    for (const region of REGIONS) {
      const fnSeries = world
        .series({ account: DEFAULT_ACCOUNT, region, namespace: 'AWS/Lambda' })
        .filter((s) => s.metricName === 'Invocations' && dims(s) === 'FunctionName');
      for (let t = FROM; t < TO; t += MINUTE) {
        const total = fnSeries.reduce((n, s) => n + (world.datapoint(s, t, 60)?.Sum ?? 0), 0);
        const sent = mine
          .filter(
            (l) =>
              l.metric === 'aws.lambda.invocations' &&
              l.timestamp === t / 1000 &&
              l.tags.includes(`region:${region}`),
          )
          .reduce((n, l) => n + l.value, 0);
        assert.equal(sent, total, `${region} ${new Date(t).toISOString()}`);
      }
    }
  });

  test('function tags: functionname, resource, runtime, memorysize, architecture and its AWS tags; memorysize/timeout gauges', () => {
    for (const region of ['us-east-1', 'eu-west-1']) {
      for (const fn of emulator.world.functions(DEFAULT_ACCOUNT, region)) {
        const line = lines.find(
          (l) =>
            l.metric === 'aws.lambda.invocations' &&
            l.tags.includes(tagOf('functionname', fn.name)) &&
            l.tags.includes(`region:${region}`),
        );
        if (!line) continue;
        const want = [
          tagOf('resource', fn.name),
          tagOf('runtime', fn.runtime),
          `memorysize:${fn.memorySize}`,
          tagOf('architecture', fn.architecture),
          ...Object.entries(fn.tags).map(([k, v]) => tagOf(k, v)),
        ];
        for (const tag of want)
          assert.ok(line.tags.includes(tag), `${fn.name}: ${tag} missing in ${line.tags.join(',')}`);
        const memory = lines.find(
          (l) =>
            l.metric === 'aws.lambda.memorysize' &&
            l.tags.includes(tagOf('functionname', fn.name)) &&
            l.tags.includes(`region:${region}`),
        );
        assert.equal(memory?.value, fn.memorySize);
        assert.equal(memory?.timestamp, undefined, 'configuration gauges carry no CloudWatch timestamp');
        const timeout = lines.filter(
          (l) =>
            l.metric === 'aws.lambda.timeout' &&
            l.tags.includes(tagOf('functionname', fn.name)) &&
            l.tags.includes(`region:${region}`),
        );
        assert.equal(timeout.length, RUNS, 'one timeout gauge per function per run');
        assert.equal(timeout[0]!.value, fn.timeout);
      }
    }
  });

  test('Lambda@Edge replicas in three regions carry at_edge, the master name, ARN and AWS tags; my.func does not', () => {
    const replicas = ['eu-west-1', 'ap-northeast-1', 'us-west-2'].flatMap((r) =>
      emulator.world.edgeReplicas(DEFAULT_ACCOUNT, r),
    );
    assert.equal(new Set(replicas.map((r) => r.region)).size, 3);
    for (const replica of replicas) {
      const line = lines.find(
        (l) =>
          l.metric === 'aws.lambda.invocations' &&
          l.tags.includes(tagOf('functionname', replica.name)) &&
          l.tags.includes(`region:${replica.region}`),
      );
      assert.ok(line, `no series for replica ${replica.name} in ${replica.region}`);
      for (const tag of [
        'at_edge:true',
        tagOf('edge_master_name', replica.master.name),
        tagOf('edge_master_arn', replica.master.arn),
        ...Object.entries(replica.master.tags).map(([k, v]) => tagOf(k, v)),
      ]) {
        assert.ok(line.tags.includes(tag), `${replica.region}: ${tag} missing in ${line.tags.join(',')}`);
      }
    }
    const dotted = lines.filter((l) => l.tags.includes('functionname:my.func'));
    assert.ok(dotted.length > 0, 'my.func is collected');
    assert.ok(
      dotted.every((l) => !l.tags.some((t) => t.startsWith('at_edge') || t.startsWith('edge_master'))),
    );
  });
});

describe('amazon_api_gateway against the emulator', () => {
  test('emits only metadata.csv metrics, with the contract type, and every one that has data', () => {
    checkContract('amazon_api_gateway', 'aws.apigateway.');
  });

  test('REST, HTTP and WebSocket: per stage the most detailed series, never the API-only series; exact values', () => {
    const expected = apiGatewayTruth(emulator.world, DEFAULT_ACCOUNT, FROM, TO);
    const mine = lines.filter((l) => l.metric.startsWith('aws.apigateway.') && l.timestamp !== undefined);
    const keys = API_GATEWAY_KEYS;
    assert.ok(expected.size > 1000, `${expected.size} points`);
    assert.deepEqual(diffPoints(expected, mine, keys), {
      missing: [],
      unexpected: [],
      duplicated: [],
      wrongValue: [],
    });
    for (const name of [
      'aws.apigateway.4xxerror',
      'aws.apigateway.4xx',
      'aws.apigateway.connect_count',
      'aws.apigateway.message_count.sum',
    ]) {
      assert.ok(
        mine.some((l) => l.metric === name),
        `${name} (REST/HTTP/WebSocket) emitted`,
      );
    }
    assert.ok(!mine.some((l) => !l.tags.some((t) => t.startsWith('stage:'))), 'never an API-only series');
  });

  test('apiname and apiid on every series, plus resource/method or route, and the API and stage AWS tags', () => {
    for (const api of emulator.world.apis(DEFAULT_ACCOUNT, 'us-east-1')) {
      const line = lines.find(
        (l) =>
          l.metric.startsWith('aws.apigateway.') &&
          l.tags.includes(tagOf('apiid', api.id)) &&
          l.tags.includes('region:us-east-1'),
      );
      assert.ok(line, `${api.kind} API ${api.name} emitted`);
      const stage = api.stages.find((s) => line.tags.includes(tagOf('stage', s.name)))!;
      for (const tag of [
        tagOf('apiname', api.name),
        ...Object.entries(api.tags).map(([k, v]) => tagOf(k, v)),
        ...Object.entries(stage.tags).map(([k, v]) => tagOf(k, v)),
      ]) {
        assert.ok(line.tags.includes(tag), `${api.name}: ${tag} missing in ${line.tags.join(',')}`);
      }
      if (stage.detailed.length > 0) {
        const detail = api.kind === 'REST' ? ['resource:', 'method:'] : ['route:'];
        const detailedLine = lines.find(
          (l) =>
            l.tags.includes(tagOf('apiid', api.id)) &&
            detail.every((p) => l.tags.some((t) => t.startsWith(p))),
        );
        assert.ok(detailedLine, `${api.name} detailed series carry ${detail.join(' ')}`);
      }
    }
  });

  test('a stage with detailed metrics on only part of its resources raises a warning and a self-metric', () => {
    const status = harness.status.snapshot({ version: 't', sink: {} });
    const api = status.instances.find((i) => i.checkName === 'amazon_api_gateway')!;
    const partial = emulator.world
      .apis(DEFAULT_ACCOUNT, 'us-east-1', 'REST')
      .flatMap((a) =>
        a.stages
          .filter((s) => s.detailed.length > 0 && s.detailed.length < a.routes.length)
          .map((s) => ({ a, s })),
      );
    assert.equal(partial.length, 1, 'the small world has one partly-detailed REST stage');
    const { a, s } = partial[0]!;
    assert.ok(
      api.warnings.some(
        (w) => w.includes(`API ${a.name} stage ${s.name}`) && w.includes('detailed metrics cover only'),
      ),
      api.warnings.join('\n'),
    );
    const coverage = lines.find(
      (l) =>
        l.metric === 'dogwatch.apigateway.detailed_coverage' && l.tags.includes(tagOf('apiname', a.name)),
    );
    assert.ok(coverage && coverage.value < 1, 'coverage self-metric below 1');
    const complete = lines.filter(
      (l) =>
        l.metric === 'dogwatch.apigateway.detailed_coverage' && !l.tags.includes(tagOf('apiname', a.name)),
    );
    assert.ok(
      complete.length > 0 && complete.every((l) => l.value === 1),
      'fully detailed stages report full coverage',
    );
  });
});

describe('amazon_rekognition against the emulator', () => {
  test('emits only metadata.csv metrics (the misspelled deteceted_label_count included) with exact values', () => {
    checkContract('amazon_rekognition', 'aws.rekognition.');
    assert.ok(
      lines.some(
        (l) =>
          l.metric === 'aws.rekognition.deteceted_label_count' && l.tags.includes('operation:detectlabels'),
      ),
    );
    const world = emulator.world;
    const expected = expectedPoints({
      world,
      series: world.series({ account: DEFAULT_ACCOUNT, namespace: 'AWS/Rekognition' }),
      rows: metricTable('amazon_rekognition'),
      scopeOf: () => 'operation',
      identity,
      fromMs: FROM,
      toMs: TO,
    });
    const mine = lines.filter((l) => l.metric.startsWith('aws.rekognition.'));
    assert.deepEqual(diffPoints(expected, mine, ['operation', 'region']), {
      missing: [],
      unexpected: [],
      duplicated: [],
      wrongValue: [],
    });
  });
});

describe('wire and CLI', () => {
  test('every datagram is valid DogStatsD within 1432 bytes', () => {
    assert.ok(listener.datagrams.length > 100);
    for (const d of listener.datagrams) assertValidDatagram(d, 1432);
  });

  test('`dogwatch check amazon_lambda --json` prints exactly what the daemon sends', async () => {
    const ws = new TempWorkspace();
    const udp = await startUdpListener();
    try {
      ws.writeConf(
        'amazon_lambda',
        `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1, eu-west-1]\n`,
      );
      // A frozen virtual clock shared by the CLI process and the in-process daemon run.
      const frozen = new ScaledClock(Date.now(), clock.now(), 1e-9);
      const env = {
        ...process.env,
        DOGWATCH_CLOCK: frozen.toSpec(),
        DOGWATCH_CONFD: ws.confd,
        DOGWATCH_STATE_DIR: ws.stateDir,
        DOGWATCH_LOG_LEVEL: 'error',
      };
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [CLI, 'check', 'amazon_lambda', '--json'],
        { env, maxBuffer: 64 << 20 },
      );
      const printed = stdout
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              kind: string;
              metric?: string;
              type?: string;
              value?: number;
              timestamp?: number;
              tags?: string[];
            },
        )
        .filter((s) => s.kind === 'metric')
        .map(
          (s) =>
            `${s.metric}|${s.type === 'count' ? 'c' : 'g'}|${s.value}|${s.timestamp ?? '-'}|${[...s.tags!].sort().join(',')}`,
        )
        .sort();

      const settings = testSettings(ws, { DD_DOGSTATSD_URL: `udp://127.0.0.1:${udp.port}` });
      const daemon = new CollectionHarness({ settings, clock: frozen, sink: sinkFor(settings) });
      await daemon.start();
      await daemon.runAll();
      await daemon.stop();
      await udp.waitFor((ls) => ls.length >= printed.length, 5000);
      const sent = udp
        .lines()
        .map(parseMetricLine)
        .filter((l): l is ParsedMetricLine => l !== undefined && !l.metric.startsWith('dogwatch.'))
        .map((l) => `${l.metric}|${l.type}|${l.value}|${l.timestamp ?? '-'}|${[...l.tags].sort().join(',')}`)
        .sort();
      assert.ok(printed.length > 100);
      assert.deepEqual(printed, sent);
    } finally {
      await udp.close();
      ws.cleanup();
    }
  });
});
