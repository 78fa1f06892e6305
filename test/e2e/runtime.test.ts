import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { startUdpListener, startUdsListener, type UdpListener } from '../support/dogstatsd-listener.js';
import { assertValidDatagram } from '../support/dogstatsd-validator.js';
import type { Daemon } from '../../core/runtime/daemon.js';
import { checkModule } from '../fixtures/checks/test-check.js';
import { TempWorkspace, sleep, startDaemon, testSettings } from '../support/daemon-harness.js';

const workspaces: TempWorkspace[] = [];
function workspace(): TempWorkspace {
  const w = new TempWorkspace();
  workspaces.push(w);
  return w;
}
after(() => workspaces.forEach((w) => w.cleanup()));

interface TestDaemon {
  readonly ws: TempWorkspace;
  readonly listener: UdpListener;
  readonly daemon: Daemon;
}

/**
 * A daemon with the test check, sending over UDP to a real listener: `writeConfs` fills conf.d, `body`
 * runs while the daemon runs; the daemon is stopped and the listener closed whatever happens.
 */
async function withTestDaemon(
  writeConfs: (ws: TempWorkspace) => void,
  env: Record<string, string>,
  body: (t: TestDaemon) => Promise<void>,
): Promise<TestDaemon> {
  const ws = workspace();
  const listener = await startUdpListener();
  writeConfs(ws);
  const settings = testSettings(ws, { DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}`, ...env });
  const daemon = startDaemon({ settings, modules: [checkModule] });
  await daemon.start();
  try {
    await body({ ws, listener, daemon });
  } finally {
    await daemon.stop();
    await listener.close();
  }
  return { ws, listener, daemon };
}

describe('runtime: a test check through the daemon to a real DogStatsD socket', () => {
  test('a conf.d file made invalid and reloaded keeps its last good instances running and says why (issue 13, #4)', async () => {
    await withTestDaemon(
      (ws) => ws.writeConf('dogwatch_test', 'instances:\n  - value: 5\n    min_collection_interval: 1\n'),
      {},
      async ({ ws, listener, daemon }) => {
        await listener.waitFor((lines) => lines.some((l) => l.startsWith('test.value:5|g')), 8000);
        const before = daemon.instanceIds();
        const file = ws.writeConf(
          'dogwatch_test',
          'instances:\n  - value: [5\n    min_collection_interval: 1\n',
        );
        await daemon.reload();
        assert.deepEqual(daemon.instanceIds(), before, 'the instance keeps running');
        const problems = daemon.status.snapshot({ version: 't', sink: {} }).configProblems;
        assert.ok(
          problems.some((p) => p.includes('conf.yaml')),
          `status names the file: ${problems.join('; ')}`,
        );
        listener.clear();
        await listener.waitFor((lines) => lines.some((l) => l.startsWith('test.value:5|g')), 8000);
        // Fixed (with a new value): the new version replaces the last good one.
        ws.writeConf('dogwatch_test', 'instances:\n  - value: 7\n    min_collection_interval: 1\n');
        await daemon.reload();
        assert.notDeepEqual(daemon.instanceIds(), before);
        assert.equal(daemon.instanceIds().length, 1);
        assert.deepEqual(daemon.status.snapshot({ version: 't', sink: {} }).configProblems, []);
        await listener.waitFor((lines) => lines.some((l) => l.startsWith('test.value:7|g')), 8000);
        assert.ok(file.endsWith('conf.yaml'));
      },
    );
  });

  test('samples arrive as exact datagrams over UDP, with timestamps, merged tags and can_connect', async () => {
    await withTestDaemon(
      (ws) => {
        ws.writeConf(
          'dogwatch_test',
          'instances:\n  - value: 42\n    min_collection_interval: 1\n    tags: ["team:Core"]\n    service: billing\n',
        );
      },
      { DD_ENV: 'prod' },
      async ({ listener }) => {
        await listener.waitFor(
          (lines) => lines.some((l) => l.startsWith('_sc|dogwatch_test.can_connect|0')),
          5000,
        );
        const lines = listener.lines();
        const gauge = lines.find((l) => l.startsWith('test.value:'));
        assert.ok(gauge, `no test.value line in ${lines.join('\n')}`);
        const minute = Math.floor(Date.now() / 60_000) * 60;
        // Check tags first, then instance tags, global tags, service, and `host:` (no host for AWS data).
        assert.match(
          gauge,
          new RegExp(
            `^test\\.value:42\\|g\\|#kind:gauge,team:core,env:prod,service:billing,host:\\|T(${minute}|${minute - 60})$`,
          ),
        );
        assert.ok(
          lines.some((l) =>
            /^test\.runs:1\|c\|#kind:count,team:core,env:prod,service:billing,host:\|T\d+$/.test(l),
          ),
        );
        assert.ok(
          lines.some((l) =>
            /^_sc\|dogwatch_test\.can_connect\|0\|#instance:dogwatch_test:[0-9a-f]{16},team:core,env:prod,service:billing$/.test(
              l,
            ),
          ),
        );
        for (const d of listener.datagrams) assertValidDatagram(d, 1432);
      },
    );
  });

  test('the same samples arrive over a unix datagram socket, and an event keeps UTF-8 byte lengths', async () => {
    const ws = workspace();
    const socketPath = ws.path('dsd.socket');
    const listener = await startUdsListener(socketPath);
    ws.writeConf(
      'dogwatch_test',
      'instances:\n  - value: 7.5\n    min_collection_interval: 1\n    send_event: true\n',
    );
    const settings = testSettings(ws, { DD_DOGSTATSD_URL: `unix://${socketPath}` });
    assert.equal(settings.dogstatsd.maxDatagramBytes, 8192);
    const daemon = startDaemon({ settings, modules: [checkModule] });
    await daemon.start();
    try {
      await listener.waitFor((lines) => lines.some((l) => l.startsWith('_e{')), 5000);
      const lines = listener.lines();
      assert.ok(
        lines.some((l) => /^test\.value:7\.5\|g\|#kind:gauge,host:\|T\d+$/.test(l)),
        lines.join('\n'),
      );
      const title = '배포 완료 🚀';
      const text = '첫 줄\\n둘째 줄';
      const event = lines.find((l) => l.startsWith('_e{'))!;
      assert.equal(
        event,
        `_e{${Buffer.byteLength(title)},${Buffer.byteLength(text)}}:${title}|${text}|t:success`,
      );
      for (const d of listener.datagrams) assertValidDatagram(d, 8192);
    } finally {
      await daemon.stop();
      await listener.close();
    }
  });

  test('an instance never overlaps itself: late ticks are skipped and counted', async () => {
    let trace = '';
    const { listener, daemon } = await withTestDaemon(
      (ws) => {
        trace = ws.path('trace.log');
        ws.writeConf(
          'dogwatch_test',
          `instances:\n  - sleep_ms: 2300\n    min_collection_interval: 1\n    trace_file: ${trace}\n`,
        );
      },
      {},
      () => sleep(5200),
    );
    const events = readFileSync(trace, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);
    assert.ok(events.length >= 4, `expected at least two runs, got ${events.join(',')}`);
    // start/end strictly alternate: no second start before the previous end.
    events.forEach((e, i) =>
      assert.equal(e, i % 2 === 0 ? 'start' : 'end', `overlap in ${events.join(',')}`),
    );
    const status = daemon.status.snapshot({ version: 't', sink: {} });
    assert.equal(status.instances.length, 0, 'instances are unregistered after stop');
    assert.ok(
      listener.lines().some((l) => l.startsWith('dogwatch.check.skipped_runs:1|c|')),
      'skipped runs are reported as a self-metric',
    );
  });

  test('a run that throws or times out is CRITICAL with the reason, recovers to OK, and the daemon lives on', async () => {
    await withTestDaemon(
      (ws) => {
        ws.writeConf(
          'dogwatch_test',
          'instances:\n  - min_collection_interval: 1\n    fail_runs: [1]\n',
          'failing.yaml',
        );
        ws.writeConf(
          'dogwatch_test',
          'instances:\n  - min_collection_interval: 1\n    sleep_ms: 5000\n    value: 3\n',
          'slow.yaml',
        );
      },
      { DOGWATCH_RUN_TIMEOUT: '1' },
      async ({ listener, daemon }) => {
        await listener.waitFor(
          (lines) =>
            lines.some((l) => l.includes('can_connect|2') && l.includes('m:test failure on run 1')) &&
            lines.some((l) => l.includes('can_connect|2') && l.includes('m:run timed out after 1.0s')) &&
            lines.some((l) => l.startsWith('_sc|dogwatch_test.can_connect|0')),
          8000,
        );
        const status = daemon.status.snapshot({ version: 't', sink: {} });
        const failing = status.instances.find((i) => i.source.endsWith('failing.yaml:2'))!;
        assert.equal(failing.lastError?.message, 'test failure on run 1');
        assert.ok(failing.lastSuccess, 'the failing instance recovered');
        const slow = status.instances.find((i) => i.source.endsWith('slow.yaml:2'))!;
        assert.ok(slow.timeouts >= 1);
      },
    );
  });

  test('a run may have many AWS calls in flight on its abort signal without a listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(`${warning.name}: ${warning.message}`);
    };
    process.on('warning', onWarning);
    try {
      await withTestDaemon(
        (ws) =>
          ws.writeConf(
            'dogwatch_test',
            'instances:\n  - min_collection_interval: 1\n    abort_listeners: 64\n',
          ),
        {},
        async ({ listener }) => {
          await listener.waitFor(
            (lines) => lines.some((l) => l.startsWith('_sc|dogwatch_test.can_connect|0')),
            5000,
          );
          await new Promise((resolve) => setImmediate(resolve));
        },
      );
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(
      warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
      [],
    );
  });

  test('a broken conf.d file disables only its own instances; the others run', async () => {
    await withTestDaemon(
      (ws) => {
        ws.writeConf('dogwatch_test', 'instances:\n  - value: 1\n    min_collection_interval: 1\n');
        ws.writeConf('dogwatch_test', 'instances:\n  - value: "not a number"\n', 'broken.yaml');
        ws.writeConf('dogwatch_tes', 'instances:\n  - value: 2\n');
      },
      {},
      async ({ listener, daemon }) => {
        await listener.waitFor((lines) => lines.some((l) => l.startsWith('test.value:1|g')), 5000);
        const problems = daemon.status.snapshot({ version: 't', sink: {} }).configProblems;
        assert.ok(
          problems.some((p) => /broken\.yaml:2: instances\[0\]\.value/.test(p)),
          problems.join('\n'),
        );
        assert.ok(
          problems.some((p) => /dogwatch_tes.*did you mean dogwatch_test/.test(p)),
          problems.join('\n'),
        );
        assert.equal(daemon.instanceIds().length, 1);
      },
    );
  });
});
