import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { TempWorkspace } from '../support/daemon-harness.js';
import { assetFilePath, builtinAssets } from '../tools/write-assets.js';

const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));
const run = promisify(execFile);
const workspace = new TempWorkspace();
after(() => workspace.cleanup());

const assets = (...args: string[]) =>
  run(process.execPath, [CLI, 'assets', ...args], {
    env: { ...process.env, DOGWATCH_CONFD: workspace.confd },
  });
const keysOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => line.split('\t')[0]!);

for (const command of [[], ['list'], ['print'], ['install']]) {
  test(`dogwatch ${['assets', ...command].join(' ')} --help and --version`, async () => {
    assert.match((await assets(...command, '--help')).stdout, /^Usage: dogwatch assets/);
    assert.match((await assets(...command, '--version')).stdout, /^\d+\.\d+\.\d+/);
  });
}

test('assets list: one asset per line (key, kind, title); print: the API JSON of the committed file', async () => {
  const { stdout } = await assets('list');
  const lines = stdout.trim().split('\n');
  assert.deepEqual(
    keysOf(stdout),
    builtinAssets().map((a) => a.key),
  );
  assert.ok(
    lines.every((line) => /^[^\t]+\t(dashboard|monitor)\t[^\t]+$/.test(line)),
    stdout,
  );
  const lambda = builtinAssets().find((a) => a.key === 'amazon_lambda/dashboards/overview')!;
  const printed = (await assets('print', lambda.key)).stdout;
  assert.equal(printed, readFileSync(assetFilePath(lambda), 'utf8'));
  const several = JSON.parse((await assets('print', 'amazon_rekognition')).stdout) as Record<string, unknown>;
  assert.deepEqual(
    Object.keys(several),
    builtinAssets()
      .filter((a) => a.name.startsWith('amazon_rekognition/'))
      .map((a) => a.key),
  );
});

test('namespaces come from the conf.d instances, or from --namespace', async () => {
  workspace.writeConf(
    'amazon_lambda',
    'instances:\n  - regions: [us-east-1]\n  - regions: [eu-west-1]\n    namespace: edge\n',
  );
  const fromConfd = keysOf((await assets('list')).stdout);
  assert.ok(fromConfd.includes('amazon_lambda/dashboards/overview'));
  assert.ok(fromConfd.includes('edge:amazon_lambda/dashboards/overview'));
  assert.ok(!fromConfd.some((k) => k.startsWith('edge:amazon_api_gateway') || k.startsWith('edge:dogwatch')));
  const printed = (await assets('print', 'edge:amazon_lambda/monitors/high_error_rate')).stdout;
  assert.match(printed, /sum:edge\.aws\.lambda\.errors\{\*\}/);

  const flagged = keysOf((await assets('list', '--namespace', 'blue')).stdout);
  assert.ok(flagged.includes('blue:amazon_api_gateway/dashboards/overview'));
  assert.ok(flagged.includes('dogwatch/dashboards/health'), 'self assets are never namespaced');
  assert.ok(!flagged.some((k) => k.startsWith('edge:') || k.startsWith('amazon_lambda/')));
  assert.deepEqual(
    keysOf((await assets('list', '--namespace', '')).stdout),
    builtinAssets().map((a) => a.key),
  );
});

test('an unknown asset name fails with the closest one', async () => {
  await assert.rejects(
    assets('print', 'amazon_lambda/dashboards/overveiw'),
    (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(
        error.stderr ?? '',
        /no asset is named .* did you mean amazon_lambda\/dashboards\/overview\?/,
      );
      return true;
    },
  );
});
