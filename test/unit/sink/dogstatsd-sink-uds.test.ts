import assert from 'node:assert/strict';
import { normalizeTags } from '../../../core/check/normalize.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSilentLogger } from '../../../core/log/logger.js';
import { Delivery } from '../../../core/sink/delivery.js';
import { DogStatsdSink, type DogStatsdSinkTuning } from '../../../core/sink/dogstatsd-sink.js';
import type { MetricSample } from '../../../core/sink/samples.js';
import { startUdsListener } from '../../support/dogstatsd-listener.js';
import { assertValidDatagram } from '../../support/dogstatsd-validator.js';

const T = 1764028800;
const logger = createSilentLogger();

function metric(i: number, tags: readonly string[] = ['functionname:f1', 'region:us-east-1']): MetricSample {
  return {
    kind: 'metric',
    metric: 'aws.lambda.errors',
    type: 'count',
    value: i,
    timestamp: T + i,
    tags: normalizeTags(tags),
  };
}

describe('DogStatsdSink over UDS', () => {
  let dir: string;
  let socketCounter = 0;
  const nextPath = (): string => join(dir, `dsd-${String(++socketCounter)}.sock`);
  // Short delays so reconnect tests run in well under a second.
  const fast: Omit<DogStatsdSinkTuning, 'logger'> = {
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 50,
    flushTimeoutMs: 300,
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dogwatch-uds-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a socket that refuses us (EPERM) is an unreachable Agent: runs fail, nothing is dropped as bad', async () => {
    const path = nextPath();
    const listener = await startUdsListener(path);
    const sink = new DogStatsdSink({ transport: 'uds', path, logger, ...fast });
    try {
      sink.submit(metric(1));
      await sink.flush();
      await listener.waitFor(1);
      // The listener connects itself to a decoy: Linux then refuses every other sender with EPERM.
      const down = listener.goDown();
      const delivery = new Delivery();
      sink.submit(metric(2), delivery);
      await assert.rejects(
        delivery.settle(),
        /not delivered: the Datadog Agent at unix:\/\/.* is unreachable \(EPERM\)/,
      );
      assert.equal(sink.health().reachable, false);
      await down;
    } finally {
      await sink.close();
      await listener.close();
    }
  });

  it('sends exact datagrams, packed up to 8192 bytes', async () => {
    const path = nextPath();
    const listener = await startUdsListener(path);
    const sink = new DogStatsdSink({ transport: 'uds', path, logger });
    try {
      sink.submit(metric(1));
      sink.submit({
        kind: 'event',
        title: 'Deploy',
        text: 'v2\nrolled out',
        timestamp: T,
        priority: 'low',
        tags: normalizeTags([]),
      });
      await sink.flush();
      await listener.waitFor(2);
      assert.deepEqual(
        listener.datagrams.map((d) => d.toString()),
        [
          'aws.lambda.errors:1|c|#functionname:f1,region:us-east-1|T1764028801\n_e{6,14}:Deploy|v2\\nrolled out|d:1764028800|p:low',
        ],
      );
      for (const datagram of listener.datagrams) assertValidDatagram(datagram, 8192);

      listener.clear();
      const samples: MetricSample[] = [];
      for (let i = 0; i < 3000; i++) samples.push(metric(i, [`functionname:fn-${String(i % 11)}`]));
      for (const sample of samples) sink.submit(sample);
      await sink.flush();
      await listener.waitFor(3000);
      assert.ok(listener.datagrams.length > 1);
      assert.ok(listener.datagrams.every((d) => d.length <= 8192));
      assert.ok(sink.stats().maxDatagramBytes > 8000, String(sink.stats().maxDatagramBytes));
      for (const datagram of listener.datagrams) assertValidDatagram(datagram, 8192);
    } finally {
      await sink.close();
      await listener.close();
    }
  });

  it('survives a missing socket: drops are counted, later samples arrive once it exists', async () => {
    const path = nextPath();
    const sink = new DogStatsdSink({ transport: 'uds', path, logger, ...fast });
    try {
      for (let i = 0; i < 10; i++) sink.submit(metric(i));
      await sink.flush(); // gives up after flushTimeoutMs
      assert.equal(sink.stats().dropped, 10);
      assert.ok(sink.stats().sendErrors === 0 && sink.stats().datagrams === 0);

      const listener = await startUdsListener(path);
      try {
        sink.submit(metric(42));
        await sink.flush();
        await listener.waitFor(1);
        assert.deepEqual(listener.lines(), [
          'aws.lambda.errors:42|c|#functionname:f1,region:us-east-1|T1764028842',
        ]);
        assert.equal(sink.stats().dropped, 10);
        for (const datagram of listener.datagrams) assertValidDatagram(datagram, 8192);
      } finally {
        await listener.close();
      }
    } finally {
      await sink.close();
    }
  });

  it('reconnects when the socket is removed and recreated, without losing queued samples', async () => {
    const path = nextPath();
    const first = await startUdsListener(path);
    const sink = new DogStatsdSink({ transport: 'uds', path, logger, ...fast, flushTimeoutMs: 5000 });
    try {
      sink.submit(metric(1));
      await sink.flush();
      await first.waitFor(1);
      await first.close(); // the Agent stops: socket closed and file removed

      sink.submit(metric(2)); // refused: queued, reconnect attempts begin
      const flushed = sink.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = await startUdsListener(path); // the Agent is back
      try {
        await flushed;
        sink.submit(metric(3));
        await sink.flush();
        await second.waitFor(2);
        assert.deepEqual(
          second.lines().map((l) => l.split('|')[0]),
          ['aws.lambda.errors:2', 'aws.lambda.errors:3'],
        );
        const stats = sink.stats();
        assert.equal(stats.dropped, 0);
        assert.ok(stats.sendErrors >= 1, 'the refused send is counted');
        for (const datagram of second.datagrams) assertValidDatagram(datagram, 8192);
      } finally {
        await second.close();
      }
    } finally {
      await sink.close();
    }
  });

  it('keeps a bounded queue while the socket is missing, dropping the oldest', async () => {
    const path = nextPath();
    const sink = new DogStatsdSink({
      transport: 'uds',
      path,
      logger,
      ...fast,
      maxDatagramBytes: 100,
      maxQueuedDatagrams: 5,
      flushTimeoutMs: 2000,
    });
    try {
      // Separate ticks: each submit seals its own datagram.
      for (let i = 0; i < 20; i++) {
        sink.submit(metric(i));
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(sink.stats().dropped, 15, 'only 5 datagrams are kept');
      const flushed = sink.flush();
      const listener = await startUdsListener(path);
      try {
        await flushed;
        await listener.waitFor(5);
        assert.deepEqual(
          listener.lines().map((l) => l.split('|')[0]),
          [15, 16, 17, 18, 19].map((i) => `aws.lambda.errors:${String(i)}`),
        );
        for (const datagram of listener.datagrams) assertValidDatagram(datagram, 100);
      } finally {
        await listener.close();
      }
    } finally {
      await sink.close();
      await sink.close();
    }
  });
  it('a group spanning datagrams hears of each delivered prefix, at datagram boundaries, before it settles', async () => {
    const path = nextPath();
    const listener = await startUdsListener(path);
    const sink = new DogStatsdSink({ transport: 'uds', path, logger, maxDatagramBytes: 512, ...fast });
    try {
      const delivery = new Delivery();
      const samples = 30;
      for (let i = 0; i < samples; i++) sink.submit(metric(i), delivery);
      const progress: number[] = [];
      await new Promise<void>((resolve, reject) =>
        delivery.onSettled((error, delivered) => {
          if (delivered !== undefined) progress.push(delivered);
          else if (error) reject(error);
          else resolve();
        }, samples),
      );
      await listener.waitFor((lines) => lines.length === samples);
      const boundaries: number[] = [];
      let lines = 0;
      for (const datagram of listener.datagrams)
        boundaries.push((lines += String(datagram).split('\n').length));
      assert.ok(boundaries.length > 3, `${boundaries.length} datagrams`);
      assert.deepEqual(progress, boundaries.slice(0, -1), 'one report per datagram but the last');
    } finally {
      await sink.close();
      await listener.close();
    }
  });

  it('no progress once a sample failed, nor when the sinks took a different number of samples', () => {
    const reports: number[] = [];
    const failing = new Delivery();
    failing.expect(3);
    failing.onSettled((_, n) => n !== undefined && reports.push(n), 3);
    failing.delivered(1);
    failing.failed(1, 'gone');
    failing.delivered(1);
    assert.deepEqual(reports, [1]);
    const fannedOut = new Delivery();
    fannedOut.expect(4); // two samples, each taken by two sinks
    fannedOut.onSettled((_, n) => n !== undefined && reports.push(n), 2);
    fannedOut.delivered(1);
    fannedOut.delivered(2);
    assert.deepEqual(reports, [1], 'a count of deliveries to two sinks is not a prefix of samples');
  });
});
