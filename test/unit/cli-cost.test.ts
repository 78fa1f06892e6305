/**
 * `dogwatch --version` and `dogwatch health` (the container HEALTHCHECK, every 5-30 s) must load only what
 * they need. Measured as child processes, against a bare `node -e 0` on the same machine, so the bound
 * is about dogwatch and not about how fast this machine starts Node.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cheapestOf } from '../support/resource-usage.js';

const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));
/** What these commands may add to a bare Node process (the target: well under 100 ms, 50 MB). */
const MAX_EXTRA_CPU_MS = 60;
const MAX_EXTRA_RSS_MIB = 12;
const RUNS = 3;

test('--version and health cost little more than starting Node itself', async () => {
  const server = createServer((_request, response) => response.end('{"status":"ok"}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const bare = await cheapestOf(RUNS, ['-e', '0']);
    const version = await cheapestOf(RUNS, [CLI, '--version']);
    const health = await cheapestOf(RUNS, [CLI, 'health'], {
      ...process.env,
      DOGWATCH_STATUS_ADDR: `127.0.0.1:${port}`,
    });
    const figures =
      `bare node: ${bare.cpuMs.toFixed(0)} ms CPU, ${bare.maxRssMiB.toFixed(1)} MiB; ` +
      `--version: ${version.cpuMs.toFixed(0)} ms, ${version.maxRssMiB.toFixed(1)} MiB; ` +
      `health: ${health.cpuMs.toFixed(0)} ms, ${health.maxRssMiB.toFixed(1)} MiB`;
    console.log(figures);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    assert.equal(health.exitCode, 0, health.stdout);
    for (const [name, cost] of [
      ['--version', version],
      ['health', health],
    ] as const) {
      assert.ok(
        cost.cpuMs - bare.cpuMs <= MAX_EXTRA_CPU_MS,
        `${name} adds ${(cost.cpuMs - bare.cpuMs).toFixed(0)} ms of CPU to bare Node (max ${MAX_EXTRA_CPU_MS}): ${figures}`,
      );
      assert.ok(
        cost.maxRssMiB - bare.maxRssMiB <= MAX_EXTRA_RSS_MIB,
        `${name} adds ${(cost.maxRssMiB - bare.maxRssMiB).toFixed(1)} MiB of RSS to bare Node (max ${MAX_EXTRA_RSS_MIB}): ${figures}`,
      );
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
