/**
 * `dogwatch assets install`, the real CLI process and the official client talking HTTP to a local
 * server that records every request (test/support/fake-datadog-api.ts): create, then update, never
 * touch what dogwatch did not create, a dry run that writes nothing, clear errors, and the keys in no
 * output.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { builtinAssets } from '../tools/write-assets.js';
import { FakeDatadogApi } from '../support/fake-datadog-api.js';
import { TempWorkspace } from '../support/daemon-harness.js';

const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));
// Canaries: if either shows up in any output, a key leaked.
const KEYS = {
  apiKey: 'canary0api0key0d1e2f3a4b5c6d7e8f9',
  appKey: 'canary0app0key0a1b2c3d4e5f60718293a4b5c6',
};
const ASSETS = builtinAssets();
const DASHBOARDS = ASSETS.filter((a) => a.kind === 'dashboard').length;
const MONITORS = ASSETS.length - DASHBOARDS;

let api: FakeDatadogApi;
let apiUrl: string;
let workspace: TempWorkspace;
const outputs: string[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function dogwatch(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DOGWATCH_CONFD: workspace.confd,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'assets', ...args],
      { env: { ...base, ...env } },
      (error, stdout, stderr) => {
        outputs.push(stdout, stderr);
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const withKeys = { DD_API_KEY: KEYS.apiKey, DD_APP_KEY: KEYS.appKey };
const install = (...extra: string[]) => dogwatch(['install', '--api-url', apiUrl, ...extra], withKeys);

before(async () => {
  workspace = new TempWorkspace();
  api = new FakeDatadogApi(KEYS);
  apiUrl = await api.start();
  // What a user already has: a dashboard with the same title but not ours, a clone of ours (our mark,
  // a new title), something unrelated, and a monitor of ours the user renamed.
  const lambda = ASSETS.find((a) => a.key === 'amazon_lambda/dashboards/overview')!;
  const mark = lambda.kind === 'dashboard' ? lambda.body.description : '';
  api.dashboards.set('own-same', { id: 'own-same', title: lambda.title, description: 'made by hand' });
  api.dashboards.set('own-clone', { id: 'own-clone', title: `Clone of ${lambda.title}`, description: mark });
  api.dashboards.set('own-other', { id: 'own-other', title: 'Checkout', description: '' });
  const monitor = ASSETS.find((a) => a.key === 'amazon_lambda/monitors/high_error_rate')!;
  const tags = monitor.kind === 'monitor' ? [...monitor.body.tags] : [];
  api.monitors.set(999, {
    id: 999,
    name: 'Lambda errors (tuned by the team)',
    type: 'query alert',
    query: 'sum(last_5m):sum:aws.lambda.errors{*}.as_count() > 10',
    tags,
  });
});

after(async () => {
  await api.stop();
  workspace.cleanup();
  const printed = outputs.join('\n');
  assert.ok(!printed.includes(KEYS.apiKey) && !printed.includes(KEYS.appKey), 'a key was printed');
});

const FOREIGN = [
  '/api/v1/dashboard/own-same',
  '/api/v1/dashboard/own-clone',
  '/api/v1/dashboard/own-other',
  '/api/v1/monitor/999',
];

test('the first install creates every asset through the official client, and touches nothing else', async () => {
  const run = await install();
  assert.equal(run.code, 0, run.stderr);
  const writes = api.writes();
  assert.equal(
    writes.filter((w) => w.method === 'POST' && w.path === '/api/v1/dashboard').length,
    DASHBOARDS,
  );
  assert.equal(writes.filter((w) => w.method === 'POST' && w.path === '/api/v1/monitor').length, MONITORS);
  assert.equal(writes.length, ASSETS.length);
  assert.deepEqual(
    writes.filter((w) => FOREIGN.includes(w.path)),
    [],
  );
  assert.match(String(writes[0]!.headers['user-agent']), /datadog-api-client-typescript/);
  assert.equal(api.dashboards.get('own-same')!.description, 'made by hand');
  assert.equal(api.monitors.get(999)!.name, 'Lambda errors (tuned by the team)');
  assert.equal(run.stdout.match(/^created /gm)?.length, ASSETS.length);
  // What reached the API is the asset's JSON, as `assets print` shows it.
  const lambda = writes.find((w) => (w.body as { title?: string }).title === 'AWS Lambda (dogwatch)');
  assert.deepEqual(lambda?.body, ASSETS.find((a) => a.key === 'amazon_lambda/dashboards/overview')!.body);
});

test('a second install updates what the first created, and still touches nothing else', async () => {
  const before = api.requests.length;
  const created = new Set([...api.dashboards.keys(), ...[...api.monitors.keys()].map(String)]);
  const run = await install();
  assert.equal(run.code, 0, run.stderr);
  const writes = api.requests.slice(before).filter((r) => r.method !== 'GET');
  assert.equal(writes.length, ASSETS.length);
  assert.ok(writes.every((w) => w.method === 'PUT' && created.has(w.path.split('/').pop()!)));
  assert.deepEqual(
    writes.filter((w) => FOREIGN.includes(w.path)),
    [],
  );
  assert.equal(api.dashboards.size, 3 + DASHBOARDS);
  assert.equal(run.stdout.match(/^updated /gm)?.length, ASSETS.length);
});

test('--dry-run reads and reports, and writes nothing; a name narrows the install', async () => {
  const before = api.requests.length;
  const run = await install('--dry-run', 'amazon_lambda');
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(
    api.requests.slice(before).filter((r) => r.method !== 'GET'),
    [],
  );
  const lambdaAssets = ASSETS.filter((a) => a.name.startsWith('amazon_lambda/')).length;
  assert.equal(run.stdout.match(/^would update /gm)?.length, lambdaAssets);
  assert.match(run.stdout, /dry run: nothing written/);
});

test('wrong keys: a 403 explained, with what to check, and exit 1', async () => {
  const run = await dogwatch(['install', '--api-url', apiUrl], {
    DD_API_KEY: 'wrong',
    DD_APP_KEY: KEYS.appKey,
  });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /Datadog refused the keys \(HTTP 403\).*Forbidden.*DD_API_KEY and DD_APP_KEY/s);
  assert.equal(run.stdout, '');
});

test('a mistyped DD_SITE is refused before any request, naming the valid sites', async () => {
  const before = api.requests.length;
  const run = await dogwatch(['install'], { ...withKeys, DD_SITE: 'datadoghq.con' });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /DD_SITE=datadoghq\.con is not a Datadog site \(did you mean datadoghq\.com\?\)/);
  assert.match(
    run.stderr,
    /Valid sites: datadoghq\.com, us3\.datadoghq\.com, .*datadoghq\.eu.*ddog-gov\.com/,
  );
  assert.equal(api.requests.length, before);
});

test('missing keys are named', async () => {
  const run = await dogwatch(['install', '--api-url', apiUrl], { DD_API_KEY: KEYS.apiKey });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /set DD_API_KEY and DD_APP_KEY/);
});
