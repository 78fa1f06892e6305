import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ScaledClock } from '../../core/clock.js';
import { normalizeTag } from '../../core/check/normalize.js';
import { AwsEmulator, DEFAULT_ACCOUNT, type Series } from '../emulator/index.js';
import { TempWorkspace } from '../support/daemon-harness.js';
import { startUdpListener } from '../support/dogstatsd-listener.js';
import { assertValidDatagram } from '../support/dogstatsd-validator.js';
import {
  diffPoints,
  expectedPoints,
  metricTable,
  parseMetricLine,
  type ParsedMetricLine,
} from '../support/world-truth.js';

const CLI = fileURLToPath(new URL('../../core/cli/main.js', import.meta.url));
const MINUTE = 60_000;
/** Virtual seconds per real second: a 1 s interval is one CloudWatch minute. */
const SPEED = 60;

const identity = (series: Series): string[] => [
  ...series.dimensions.map((d) => normalizeTag(`${d.Name}:${d.Value}`)!),
  `region:${series.region}`,
];

interface DaemonProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string;
}

function spawnDaemon(env: Record<string, string>): DaemonProcess {
  const child = spawn(process.execPath, [CLI, 'run'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const proc: DaemonProcess = {
    child,
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.stderr.on('data', (chunk: Buffer) => (proc.stderr += chunk.toString()));
  return proc;
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    promise,
    new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms))),
  ]);
  clearTimeout(timer);
  return result;
}

interface ScenarioResult {
  readonly crashes: number;
  readonly diffs: Record<string, ReturnType<typeof diffPoints> & { points: number }>;
}

/**
 * Runs a real daemon process against the emulator under 20% throttling and 5% 5xx, kills it once per
 * step (a crash point armed with DOGWATCH_CRASH_AT, or a SIGKILL after n ms), then lets one clean
 * process catch up and stops it with SIGTERM. Returns what the listener got against the world.
 */
async function runScenario(
  plan: readonly (string | number)[],
  minStretchMinutes: number,
): Promise<ScenarioResult> {
  const origin = Math.ceil(Date.now() / MINUTE) * MINUTE;
  const clock = new ScaledClock(Date.now(), Date.UTC(2026, 10, 25, 12, 0, 0), SPEED);
  const emulator = new AwsEmulator({
    clock,
    world: {
      regions: ['us-east-1'],
      accounts: [DEFAULT_ACCOUNT],
      functions: 3,
      edgeFunctions: 0,
      dottedFunction: false,
      eventSourceMappings: 0,
      restApis: 0,
      httpApis: 0,
      websocketApis: 0,
      rekognitionOperations: 4,
      createdAtMs: origin - 6 * 3600_000,
    },
  });
  const endpoint = await emulator.start();
  const listener = await startUdpListener();
  const ws = new TempWorkspace();
  const conf = `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1]\n    min_collection_interval: 1\n`;
  ws.writeConf('amazon_rekognition', conf);
  ws.writeConf('amazon_lambda', conf);
  const env = {
    DOGWATCH_CLOCK: clock.toSpec(),
    DOGWATCH_CONFD: ws.confd,
    DOGWATCH_STATE_DIR: ws.stateDir,
    DOGWATCH_STATUS_ADDR: 'off',
    DOGWATCH_LOG_LEVEL: 'warn',
    DOGWATCH_LOG_FORMAT: 'json',
    DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}`,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_REGION: 'us-east-1',
  };
  emulator.setFaults({
    seed: 7,
    rules: [
      { kind: 'throttle', rate: 0.2 },
      { kind: 'internal-error', rate: 0.05 },
    ],
  });
  try {
    let crashes = 0;
    for (const step of plan) {
      const daemon = spawnDaemon(typeof step === 'string' ? { ...env, DOGWATCH_CRASH_AT: step } : env);
      const ended = await within(daemon.exited, typeof step === 'string' ? 10_000 : step);
      if (!ended) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      } else {
        assert.equal(
          ended.signal,
          'SIGKILL',
          `crash point ${step} should have killed the daemon: ${daemon.stderr}`,
        );
      }
      crashes++;
    }
    const throttled = emulator.accounting
      .snapshot()
      .requests.filter((r) => r.outcome === 'throttled')
      .reduce((n, r) => n + r.count, 0);
    assert.ok(throttled > 0, 'the fault injection really throttled calls');
    // Recovery: faults gone, one clean process, stopped gracefully.
    emulator.clearFaults();
    const last = spawnDaemon(env);
    await new Promise((r) => setTimeout(r, 5000));
    last.child.kill('SIGTERM');
    const exit = await last.exited;
    assert.equal(exit.code, 0, `SIGTERM exits 0: ${last.stderr}`);
    await new Promise((r) => setTimeout(r, 300));

    for (const d of listener.datagrams) assertValidDatagram(d, 1432);
    const lines = listener
      .lines()
      .map(parseMetricLine)
      .filter((l): l is ParsedMetricLine => l !== undefined && l.timestamp !== undefined);
    const world = emulator.world;
    const scopes: [string, string, string, (s: Series) => string | undefined, string[]][] = [
      [
        'amazon_rekognition',
        'AWS/Rekognition',
        'aws.rekognition.',
        () => 'operation',
        ['operation', 'region'],
      ],
      [
        'amazon_lambda',
        'AWS/Lambda',
        'aws.lambda.',
        (s) => {
          const names = s.dimensions.map((d) => d.Name).join(',');
          return names === 'FunctionName' ? 'function' : names === '' ? 'account' : undefined;
        },
        ['functionname', 'region'],
      ],
    ];
    const diffs: ScenarioResult['diffs'] = {};
    for (const [check, namespace, prefix, scopeOf, keys] of scopes) {
      const mine = lines.filter((l) => l.metric.startsWith(prefix));
      const stamps = mine.map((l) => l.timestamp! * 1000);
      const fromMs = Math.min(...stamps);
      const toMs = Math.max(...stamps) + MINUTE;
      assert.ok(
        toMs - fromMs >= minStretchMinutes * MINUTE,
        `${check}: a long enough stretch (${(toMs - fromMs) / MINUTE} min)`,
      );
      const expected = expectedPoints({
        world,
        series: world.series({ namespace }),
        rows: metricTable(check),
        scopeOf,
        identity,
        fromMs,
        toMs,
      });
      diffs[check] = { ...diffPoints(expected, mine, keys), points: expected.size };
    }
    return { crashes, diffs };
  } finally {
    await listener.close();
    await emulator.stop();
    ws.cleanup();
  }
}

describe('restarts and faults: a real daemon process, SIGKILLed again and again', () => {
  test('SIGKILL at every point of the write path, under 20% throttling + 5% 5xx: every point exactly once', async () => {
    const { crashes, diffs } = await runScenario(
      [
        'before-emit:1',
        'before-emit:3',
        'after-journal:2',
        'mid-state-write:1',
        'mid-state-write:3',
        'after-state-rename:2',
        'after-journal:5',
      ],
      10,
    );
    for (const [check, diff] of Object.entries(diffs)) {
      assert.ok(diff.points > 300, `${check}: ${diff.points} points`);
      assert.deepEqual(
        {
          missing: diff.missing,
          duplicated: diff.duplicated,
          wrongValue: diff.wrongValue,
          unexpected: diff.unexpected,
        },
        { missing: [], duplicated: [], wrongValue: [], unexpected: [] },
        `${check} after ${crashes} SIGKILLs`,
      );
    }
  });

  test('SIGKILL at random moments (also while a batch is leaving the socket): no gap; a repeat only re-sends identical points', async () => {
    const { crashes, diffs } = await runScenario(['mid-emit:2', 1700, 2300, 1100, 2900], 3);
    for (const [check, diff] of Object.entries(diffs)) {
      assert.deepEqual(diff.missing, [], `${check}: no gap after ${crashes} SIGKILLs`);
      assert.deepEqual(diff.wrongValue, [], `${check}: a repeated point carries the same value`);
      assert.deepEqual(diff.unexpected, []);
      // A kill while datagrams are on their way can repeat that one batch after restart: at-least-once
      // is the only choice over a connectionless socket (Datadog keeps one value per timestamp).
      console.log(
        `# ${check}: ${diff.points} points, ${diff.duplicated.length} re-sent after ${crashes} SIGKILLs`,
      );
    }
  });
});
