/**
 * Canary credentials and secrets never reach logs, status or configcheck output. Runs the real CLI
 * (`configcheck`, `check`, `run` + `status`) as child processes, with debug logging, canary AWS
 * credentials in the environment, an instance with role_arn + external_id, and an ENC[] value resolved
 * by a real secret backend script. The runs reach the AWS emulator (success paths) and a fake AWS
 * endpoint that rejects every call with SignatureDoesNotMatch-style errors quoting the access key and
 * the session token, as AWS does in its canonical request (error-logging paths).
 *
 * Prints `# secrets: <outputs> outputs scanned (<bytes> bytes), <leaks> canary leaks`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { AwsEmulator, DEFAULT_ACCOUNT } from '../../emulator/index.js';
import { TempWorkspace } from '../support/daemon-harness.js';
import { freePort, runCli } from '../support/daemon-process.js';
import { startUdpListener, type UdpListener } from '../support/dogstatsd-listener.js';
import { writeSecretBackendScript } from '../support/secret-backend.js';

/** A well-formed access key id (AKIA + 16), so the logger's own pattern has a fair chance. */
const ACCESS_KEY = 'AKIACANARY0000000001';
const SECRET_KEY = 'canary-secret-XYZ';
const SESSION_TOKEN = 'canary-session-token-ABC';
const EXTERNAL_ID = 'canary-external-id';
const ENC_HANDLE = 'canary_handle';
const RESOLVED = 'CANARY-RESOLVED-SECRET';
const CANARIES = [ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, EXTERNAL_ID, ENC_HANDLE, RESOLVED];
const ROLE_ARN = `arn:aws:iam::${DEFAULT_ACCOUNT}:role/dogwatch-collector`;

const MAIN = fileURLToPath(new URL('../../app/main.js', import.meta.url));

interface Captured {
  readonly label: string;
  readonly text: string;
}
const scanned: Captured[] = [];
let emulator: AwsEmulator;
let rejecting: Server;
let rejectingUrl: string;
let listener: UdpListener;
const workspaces: TempWorkspace[] = [];

/** Every canary found in the text. */
function leaks(text: string): string[] {
  return CANARIES.filter((canary) => text.includes(canary));
}

function record(label: string, text: string): string[] {
  scanned.push({ label, text });
  return leaks(text);
}

function setUpWorkspace(endpoint: string): { ws: TempWorkspace; env: NodeJS.ProcessEnv } {
  const ws = new TempWorkspace();
  workspaces.push(ws);
  const backend = writeSecretBackendScript(ws.path('secret-backend.mjs'), {
    values: { [ENC_HANDLE]: RESOLVED },
    unknownError: 'unknown',
  });
  ws.writeConf(
    'amazon_rekognition',
    [
      'instances:',
      `  - endpoint_url: ${endpoint}`,
      '    regions: [us-east-1]',
      '    name: literal-external-id',
      `    role_arn: ${ROLE_ARN}`,
      `    external_id: ${EXTERNAL_ID}`,
      '    min_collection_interval: 1',
      `  - endpoint_url: ${endpoint}`,
      '    regions: [us-east-1]',
      '    name: enc-external-id',
      `    role_arn: ${ROLE_ARN}`,
      `    external_id: ENC[${ENC_HANDLE}]`,
      '    min_collection_interval: 1',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: ws.root,
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_SESSION_TOKEN: SESSION_TOKEN,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    DOGWATCH_CONFD: ws.confd,
    DOGWATCH_STATE_DIR: ws.stateDir,
    DOGWATCH_LOG_LEVEL: 'debug',
    DOGWATCH_SECRET_BACKEND_COMMAND: backend,
    DOGWATCH_STATUS_ADDR: 'off',
    DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}`,
  };
  return { ws, env };
}

/**
 * A fake AWS endpoint rejecting everything the way AWS rejects a bad signature: the message quotes the
 * canonical request (with the x-amz-security-token header) and the credential scope (with the key id).
 */
function startRejectingEndpoint(): Promise<string> {
  const message =
    'The request signature we calculated does not match the signature you provided. ' +
    `The Canonical String for this request should have been 'POST\n/\n\nhost:127.0.0.1\nx-amz-security-token:${SESSION_TOKEN}\n' ` +
    `and the String-to-Sign 'AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/us-east-1/sts/aws4_request' ` +
    `for Credential=${ACCESS_KEY}/20260101/us-east-1/sts/aws4_request (secret ${SECRET_KEY})`;
  rejecting = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      if (form) {
        const body = `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>${message.replace(/</g, '&lt;')}</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
        res.writeHead(403, { 'content-type': 'text/xml' }).end(body);
      } else {
        res
          .writeHead(403, {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-query-error': 'SignatureDoesNotMatch;Sender',
            'x-amzn-errortype': 'SignatureDoesNotMatch',
          })
          .end(JSON.stringify({ __type: 'SignatureDoesNotMatch', message }));
      }
    });
  });
  return new Promise((resolve) => {
    rejecting.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(rejecting.address() as AddressInfo).port}`),
    );
  });
}

before(async () => {
  emulator = new AwsEmulator({ world: 'small' });
  await emulator.start();
  rejectingUrl = await startRejectingEndpoint();
  listener = await startUdpListener();
});

after(async () => {
  await emulator.stop();
  await new Promise<void>((resolve) => rejecting.close(() => resolve()));
  await listener.close();
  for (const ws of workspaces) ws.cleanup();
  const total = scanned.reduce((n, c) => n + c.text.length, 0);
  const leaked = scanned.flatMap((c) => leaks(c.text).map((canary) => `${canary} in ${c.label}`));
  console.log(`# secrets: ${scanned.length} outputs scanned (${total} bytes), ${leaked.length} canary leaks`);
  for (const leak of [...new Set(leaked)]) console.log(`# secrets: leak: ${leak}`);
});

describe('canary secrets never appear in output', () => {
  test('configcheck (text and --json) masks external_id, the ENC[] value and its handle', async () => {
    const { env } = setUpWorkspace(emulator.endpoint);
    for (const args of [['configcheck'], ['configcheck', '--json']]) {
      const { code, stdout, stderr } = await runCli(args, env);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /literal-external-id/, 'the instance is printed');
      assert.match(stdout, /\*\*\*/, 'something was masked');
      assert.deepEqual(record(`${args.join(' ')} stdout`, stdout), []);
      assert.deepEqual(record(`${args.join(' ')} stderr`, stderr), []);
    }
  });

  test('check --json against the emulator (AssumeRole with external_id, debug logs)', async () => {
    const { env } = setUpWorkspace(emulator.endpoint);
    const before = emulator.accounting.requests({ operation: 'AssumeRole' });
    const { code, stdout, stderr } = await runCli(['check', 'amazon_rekognition', '--json'], env);
    assert.equal(code, 0, stderr);
    assert.ok(emulator.accounting.requests({ operation: 'AssumeRole' }) > before, 'the run assumed the role');
    assert.ok(emulator.accounting.requests({ operation: 'GetMetricData' }) > 0, 'the run reached CloudWatch');
    assert.match(stderr, /OK in/);
    assert.deepEqual(record('check stdout', stdout), []);
    assert.deepEqual(record('check stderr', stderr), []);
  });

  test(
    'check against an endpoint whose errors quote the access key and the session token: logs redact them',
    {},
    async () => {
      const { env } = setUpWorkspace(rejectingUrl);
      const { code, stdout, stderr } = await runCli(['check', 'amazon_rekognition', '--json'], env);
      assert.equal(code, 1, 'the run failed');
      assert.match(stderr, /SignatureDoesNotMatch|signature/i, 'the AWS error was logged');
      const found = {
        stdout: record('rejected check stdout (can_connect message)', stdout),
        stderr: record('rejected check stderr (log)', stderr),
      };
      assert.deepEqual(found, { stdout: [], stderr: [] });
    },
  );

  test('the daemon: GET /status, `dogwatch status` and the daemon log', async () => {
    const { env } = setUpWorkspace(emulator.endpoint);
    const port = await freePort();
    const daemonEnv = { ...env, DOGWATCH_STATUS_ADDR: `127.0.0.1:${port}` };
    const child: ChildProcess = spawn(process.execPath, [MAIN, 'run'], {
      env: daemonEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      let body = '';
      const deadline = Date.now() + 20_000;
      for (;;) {
        try {
          body = await (await fetch(`http://127.0.0.1:${port}/status`)).text();
          const status = JSON.parse(body) as { instances: { totalRuns: number }[] };
          if (status.instances.length === 2 && status.instances.every((i) => i.totalRuns >= 1)) break;
        } catch {
          // not listening yet
        }
        assert.ok(Date.now() < deadline, `the daemon ran both instances within 20 s:\n${body}\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(record('GET /status', body), []);
      for (const args of [['status'], ['status', '--json']]) {
        const result = await runCli(args, daemonEnv);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /amazon_rekognition/);
        assert.deepEqual(record(`${args.join(' ')} stdout`, result.stdout), []);
        assert.deepEqual(record(`${args.join(' ')} stderr`, result.stderr), []);
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    assert.match(out, /dogwatch stopped/);
    assert.deepEqual(record('daemon log', out), []);
  });
});
