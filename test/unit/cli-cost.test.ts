/**
 * `dogwatch --version` and `dogwatch health` (the container HEALTHCHECK, every 5-30 s) must load only what
 * they need: not the AWS SDK, the container, the logger, the sinks, the checks or the emulator. The test
 * reads which modules each command loads; what that costs in CPU and memory is measured by the bench
 * (`npm run bench`, "Command-line cost"), not here.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { modulesLoadedBy } from '../support/loaded-modules.js';

const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));
const DIST = new URL('../../', import.meta.url).href;

/** What a probe or a health check has no use for, by where it lives. */
const HEAVY = [
  '/node_modules/@aws-sdk/',
  '/node_modules/@smithy/',
  '/node_modules/inversify/',
  '/node_modules/winston/',
  '/node_modules/hot-shots/',
  '/node_modules/zod/',
  '/node_modules/yaml/',
  `${DIST}checks/`,
  `${DIST}emulator/`,
  `${DIST}core/cloudwatch/`,
  `${DIST}core/sink/`,
];

const heavyIn = (urls: readonly string[]): string[] =>
  urls.filter((url) => HEAVY.some((part) => url.includes(part)));

test('the module probe sees what a command loads, static and dynamic imports alike', async () => {
  const script = `await import(${JSON.stringify(pathToFileURL(fileURLToPath(new URL('../../checks/index.js', import.meta.url))).href)});`;
  const loaded = await modulesLoadedBy(['--input-type=module', '-e', script]);
  assert.equal(loaded.exitCode, 0);
  // The checks pull in the AWS SDK and the container: the probe must report both, or it proves nothing below.
  assert.ok(
    loaded.urls.some((url) => url.includes('/node_modules/@aws-sdk/')),
    'the AWS SDK is seen',
  );
  assert.ok(
    loaded.urls.some((url) => url.includes('/node_modules/inversify/')),
    'inversify is seen',
  );
  assert.ok(heavyIn(loaded.urls).length > 0);
});

test('--version and health load none of the AWS SDK, the container, the logger, the sinks or the checks', async () => {
  const server = createServer((_request, response) => response.end('{"status":"ok"}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const version = await modulesLoadedBy([CLI, '--version']);
    const health = await modulesLoadedBy([CLI, 'health'], {
      ...process.env,
      DOGWATCH_STATUS_ADDR: `127.0.0.1:${port}`,
    });
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    assert.equal(health.exitCode, 0, health.stdout);
    for (const [name, loaded] of [
      ['--version', version],
      ['health', health],
    ] as const) {
      assert.ok(
        loaded.urls.includes(pathToFileURL(CLI).href),
        `${name}: the probe did not see the entry point`,
      );
      assert.deepEqual(heavyIn(loaded.urls), [], `${name} loads what it has no use for`);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
