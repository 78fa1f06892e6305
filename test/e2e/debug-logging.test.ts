/**
 * `--log-level debug` shows each AWS call (service, operation, region, attempt, outcome, duration) and
 * never a credential; a normal run of `dogwatch check` carries no AWS SDK Node-version warning.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AwsEmulator, SMALL_WORLD } from '../../emulator/index.js';
import { TempWorkspace } from '../support/daemon-harness.js';

const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));
const SECRET = 'debug-log-canary-secret-7f3a';
const run = promisify(execFile);

let emulator: AwsEmulator;
let endpoint: string;
let workspace: TempWorkspace;

before(async () => {
  emulator = new AwsEmulator({ world: { ...SMALL_WORLD, createdAtMs: Date.now() - 6 * 3600_000 } });
  endpoint = await emulator.start();
  workspace = new TempWorkspace();
  workspace.writeConf(
    'amazon_rekognition',
    `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1]\n    lookback: 600\n`,
  );
});

after(async () => {
  await emulator.stop();
  workspace.cleanup();
});

const env = (logLevel: string): NodeJS.ProcessEnv => ({
  ...process.env,
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: SECRET,
  AWS_SESSION_TOKEN: `${SECRET}-session`,
  AWS_REGION: 'us-east-1',
  AWS_PROFILE: '',
  DOGWATCH_CONFD: workspace.confd,
  DOGWATCH_STATE_DIR: workspace.stateDir,
  DOGWATCH_LOG_LEVEL: logLevel,
  DOGWATCH_LOG_FORMAT: 'text',
});

test('debug logging names every AWS call and its outcome, and no credential', async () => {
  let throttled = 0;
  emulator.setFaults({
    rules: [{ kind: 'throttle', operation: 'GetMetricData', decide: () => throttled++ === 0 }],
  });
  const { stderr } = await run(process.execPath, [CLI, 'check', 'amazon_rekognition'], {
    env: env('debug'),
    maxBuffer: 64 << 20,
  });
  emulator.clearFaults();
  const calls = stderr.split('\n').filter((line) => /DEBUG AWS \w+ \w+ /.test(line));
  assert.ok(
    calls.some((l) => /AWS sts GetCallerIdentity us-east-1 attempt 1\/\d: ok in \d+ ms/.test(l)),
    stderr,
  );
  assert.ok(calls.some((l) => /AWS monitoring ListMetrics us-east-1 attempt 1\/\d: ok in \d+ ms/.test(l)));
  assert.ok(
    calls.some((l) =>
      /AWS monitoring GetMetricData us-east-1 attempt 1\/\d: throttled \(Throttling(Exception)?, HTTP 400\) in \d+ ms/.test(
        l,
      ),
    ),
    calls.join('\n'),
  );
  assert.ok(calls.some((l) => /AWS monitoring GetMetricData us-east-1 attempt 2\/\d: ok in/.test(l)));
  for (const secret of [SECRET, 'AKIAIOSFODNN7EXAMPLE', 'Signature=', 'Authorization'])
    assert.ok(!stderr.includes(secret), `the debug log shows ${secret}`);
});

test('a normal `dogwatch check` prints no AWS SDK Node-version warning', async () => {
  const { stderr } = await run(process.execPath, [CLI, 'check', 'amazon_rekognition'], {
    env: env('info'),
    maxBuffer: 64 << 20,
  });
  assert.doesNotMatch(stderr, /NodeVersionSupportWarning|\(node:\d+\) Warning/);
  assert.match(stderr, /OK in \d+ ms, \d+ metric samples/);
});
