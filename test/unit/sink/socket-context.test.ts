/**
 * A sink's sending loop, timers and socket outlive the run whose sample set them going. Started in the
 * run's async context, they kept that run's scope reachable (its abort signal and whatever listened on
 * it: a shared GetMetricData offer with its queries and results), the socket for the process's life.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSilentLogger } from '../../../core/log/logger.js';
import { DEFAULT_TCP_LINE_SENDER_TUNING, TcpLineSender } from '../../../core/logs-sink/tcp-line-sender.js';
import { normalizeTags } from '../../../core/check/normalize.js';
import { DogStatsdSink } from '../../../core/sink/dogstatsd-sink.js';
import { startUdpListener } from '../../support/dogstatsd-listener.js';
import { countHeapStrings } from '../../support/heap-strings.js';

const runScope = new AsyncLocalStorage<{ readonly marker: string }>();
let runs = 0;

/** Does `open` in a run's context whose only reference to a fresh marker string is the scope itself. */
async function openInRun(open: () => Promise<void>): Promise<string> {
  const n = ++runs;
  await runScope.run({ marker: ['run scope', n, process.pid].join(' ') }, open);
  // What the open itself left pending (a connect callback's state) is let go first.
  await sleep(50);
  return ['run scope', n, process.pid].join(' ');
}

describe('sinks and the run that set them going', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((server) => server.close()));

  test('DogStatsD over UDP: a sample sent during a run does not keep the run’s scope', async () => {
    const listener = await startUdpListener();
    const sink = new DogStatsdSink({
      transport: 'udp',
      host: listener.address,
      port: listener.port,
      logger: createSilentLogger(),
    });
    try {
      const marker = await openInRun(async () => {
        sink.submit({
          kind: 'metric',
          metric: 'aws.lambda.invocations',
          type: 'count',
          value: 1,
          timestamp: 1764028800,
          tags: normalizeTags(['region:us-east-1']),
        });
        await sink.flush();
      });
      assert.equal(listener.lines().length, 1, 'sent');
      // The marker passed in to count is the one copy expected.
      assert.equal(await countHeapStrings(marker), 1);
    } finally {
      await sink.close();
      await listener.close();
    }
  });

  test('a logs TCP connection made during a run does not keep the run’s scope', async () => {
    const server = createServer((socket) => socket.resume());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const counters = { lines: 0, bytes: 0, writes: 0, sendErrors: 0, dropped: 0 };
    const sender = new TcpLineSender(
      { host: '127.0.0.1', port },
      { ...DEFAULT_TCP_LINE_SENDER_TUNING, confirmDelayMs: 10 },
      createSilentLogger(),
      counters,
    );
    const marker = await openInRun(async () => {
      sender.enqueue(Buffer.from('{"message":"opened in a run"}\n'));
      await sender.idle();
    });
    try {
      assert.equal(counters.lines, 1, 'connected and delivered');
      assert.equal(await countHeapStrings(marker), 1);
    } finally {
      await sender.close();
    }
  });
});
