import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { DaemonStatus } from '../../core/status/status-registry.js';
import { TempWorkspace } from '../support/daemon-harness.js';
import { freePort } from '../support/daemon-process.js';
import { startUdpListener } from '../support/dogstatsd-listener.js';

const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));
const TEST_CHECK_MODULE = fileURLToPath(new URL('../fixtures/checks/test-check.js', import.meta.url));

async function status(port: number): Promise<DaemonStatus> {
  const response = await fetch(`http://127.0.0.1:${port}/status`);
  return (await response.json()) as DaemonStatus;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

describe('the daemon process and its signals', () => {
  test('SIGHUP adds and removes an instance without disturbing another; SIGTERM flushes and exits 0', async () => {
    const ws = new TempWorkspace();
    const listener = await startUdpListener();
    const port = await freePort();
    const trace = ws.path('trace.log');
    ws.writeConf(
      'dogwatch_test',
      'instances:\n  - value: 1\n    name: keeper\n    min_collection_interval: 1\n',
      'keeper.yaml',
    );
    const removed = ws.writeConf(
      'dogwatch_test',
      'instances:\n  - value: 2\n    name: leaver\n    min_collection_interval: 1\n',
      'leaver.yaml',
    );
    const child = spawn(process.execPath, [CLI, 'run'], {
      env: {
        ...process.env,
        DOGWATCH_CHECK_MODULES: TEST_CHECK_MODULE,
        DOGWATCH_CONFD: ws.confd,
        DOGWATCH_STATE_DIR: ws.stateDir,
        DOGWATCH_STATUS_ADDR: `127.0.0.1:${port}`,
        DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}`,
        DOGWATCH_LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = exitOf(child);
    try {
      const before = await until('both instances to run', async () => {
        const s = await status(port);
        return s.instances.length === 2 && s.instances.every((i) => i.totalRuns >= 2) ? s : undefined;
      });
      const keeperId = before.instances.find((i) => i.instanceId.includes(':keeper:'))!.instanceId;

      rmSync(removed);
      ws.writeConf(
        'dogwatch_test',
        `instances:\n  - value: 3\n    name: joiner\n    min_collection_interval: 1\n    sleep_ms: 1500\n    trace_file: ${trace}\n`,
        'joiner.yaml',
      );
      child.kill('SIGHUP');
      const after = await until('the reload', async () => {
        const s = await status(port);
        const ids = s.instances.map((i) => i.instanceId);
        return ids.some((id) => id.includes(':joiner:')) && !ids.some((id) => id.includes(':leaver:'))
          ? s
          : undefined;
      });
      const keeperAfter = after.instances.find((i) => i.instanceId === keeperId);
      assert.ok(keeperAfter, 'the untouched instance keeps its ID');
      const keeperBefore = before.instances.find((i) => i.instanceId === keeperId)!;
      assert.ok(keeperAfter.totalRuns >= keeperBefore.totalRuns, 'and its run history: it was not restarted');
      await listener.waitFor((lines) => lines.some((l) => l.startsWith('test.value:3|g')), 5000);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(health.status, 200);

      // SIGTERM while a joiner run is in flight (its trace shows a start without an end).
      await until('a joiner run in flight', () => {
        const events = readFileSync(trace, 'utf8').trim().split('\n');
        return Promise.resolve(events.at(-1)?.startsWith('start') ? true : undefined);
      });
      listener.clear();
      child.kill('SIGTERM');
      const exit = await exited;
      assert.equal(exit.code, 0, stderr);
      // That run's samples only arrive if shutdown waits for it and flushes the sink before exiting.
      assert.ok(
        listener.lines().some((l) => l.startsWith('test.value:3|g')),
        `the in-flight run's samples were flushed before exit: ${stderr}`,
      );
      assert.match(stderr, /SIGTERM received/);
      assert.match(stderr, /dogwatch stopped/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await listener.close();
      ws.cleanup();
    }
  });

  for (const signal of ['SIGHUP', 'SIGTERM'] as const) {
    test(`${signal} while the daemon is still loading is acted on once it runs, never fatal`, async () => {
      const ws = new TempWorkspace();
      const listener = await startUdpListener();
      const port = await freePort();
      ws.writeConf('dogwatch_test', 'instances:\n  - value: 7\n    min_collection_interval: 1\n');
      const child = spawn(process.execPath, [CLI, 'run'], {
        env: {
          ...process.env,
          DOGWATCH_CHECK_MODULES: TEST_CHECK_MODULE,
          DOGWATCH_CONFD: ws.confd,
          DOGWATCH_STATE_DIR: ws.stateDir,
          DOGWATCH_STATUS_ADDR: `127.0.0.1:${port}`,
          DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}`,
          DOGWATCH_LOG_FORMAT: 'json',
          DOGWATCH_LOG_LEVEL: 'debug',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      const exited = exitOf(child);
      // The first log line is written before the checks are loaded (seconds on a busy machine; the
      // daemon's own handlers come after them): that is when a config tool's signal would land.
      const firstLine = new Promise<void>((resolve) =>
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          resolve();
        }),
      );
      try {
        await Promise.race([firstLine, exited]);
        child.kill(signal);
        if (signal === 'SIGHUP') {
          await until('runs after the early SIGHUP', async () => {
            const s = await status(port);
            return s.instances.some((i) => i.totalRuns >= 2) ? s : undefined;
          });
          assert.equal(child.exitCode, null, `the daemon survived the early SIGHUP: ${stderr}`);
          assert.match(stderr, /SIGHUP received/);
          child.kill('SIGTERM');
        }
        const exit = await exited;
        assert.deepEqual(exit, { code: 0, signal: null }, stderr);
        assert.match(stderr, /SIGTERM received/);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        await listener.close();
        ws.cleanup();
      }
    });
  }
});
