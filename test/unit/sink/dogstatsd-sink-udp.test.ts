import assert from 'node:assert/strict';
import { normalizeTags } from '../../../core/check/normalize.js';
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createSilentLogger } from '../../../core/log/logger.js';
import { Delivery, DeliveryError } from '../../../core/sink/delivery.js';
import { DogStatsdSink } from '../../../core/sink/dogstatsd-sink.js';
import type { MetricSample, Sample } from '../../../core/sink/samples.js';
import { startUdpListener, type UdpListener } from '../../support/dogstatsd-listener.js';
import { assertValidDatagram } from '../../support/dogstatsd-validator.js';
import type { ListenerProcessMessage } from '../../support/udp-listener-process.js';

const T = 1764028800;
const logger = createSilentLogger();

function metric(i: number, tags: readonly string[] = ['functionname:f1', 'region:us-east-1']): MetricSample {
  return {
    kind: 'metric',
    metric: 'aws.lambda.invocations',
    type: 'count',
    value: i,
    timestamp: T + i,
    tags: normalizeTags(tags),
  };
}

function assertAllValid(datagrams: readonly Buffer[], limit: number): void {
  for (const datagram of datagrams) assertValidDatagram(datagram, limit);
}

describe('DogStatsdSink over UDP', () => {
  let listener: UdpListener;

  before(async () => {
    listener = await startUdpListener();
  });
  after(async () => {
    await listener.close();
  });

  function newSink(extra: { maxDatagramBytes?: number } = {}): DogStatsdSink {
    return new DogStatsdSink({
      transport: 'udp',
      host: listener.address,
      port: listener.port,
      logger,
      ...extra,
    });
  }

  it('sends exact lines, packed into one datagram', async () => {
    listener.clear();
    const sink = newSink();
    sink.submit(metric(1));
    sink.submit({
      kind: 'metric',
      metric: 'aws.lambda.duration',
      type: 'gauge',
      value: 0.25,
      timestamp: T,
      tags: normalizeTags([]),
    });
    sink.submit({
      kind: 'service_check',
      name: 'aws.lambda.can_connect',
      status: 0,
      timestamp: T,
      tags: normalizeTags(['region:us-east-1']),
    });
    await sink.flush();
    await listener.waitFor(3);
    assert.deepEqual(
      listener.datagrams.map((d) => d.toString()),
      [
        'aws.lambda.invocations:1|c|#functionname:f1,region:us-east-1|T1764028801\n' +
          'aws.lambda.duration:0.25|g|T1764028800\n' +
          '_sc|aws.lambda.can_connect|0|d:1764028800|#region:us-east-1',
      ],
    );
    assert.deepEqual(sink.stats(), {
      samples: 3,
      datagrams: 1,
      bytes: listener.datagrams[0]!.length,
      maxDatagramBytes: listener.datagrams[0]!.length,
      sendErrors: 0,
      dropped: 0,
    });
    assertAllValid(listener.datagrams, 1432);
    await sink.close();
  });

  it('never exceeds 1432 bytes across many lines; drops and counts an oversized line', async () => {
    listener.clear();
    const sink = newSink();
    const samples: Sample[] = [];
    for (let i = 0; i < 2000; i++)
      samples.push(metric(i, [`functionname:fn-${String(i % 37)}`, 'region:eu-west-1']));
    const hugeTags = Array.from({ length: 200 }, (_, i) => `tag${String(i)}:value`);
    samples.push({
      kind: 'metric',
      metric: 'too.big',
      type: 'gauge',
      value: 1,
      tags: normalizeTags(hugeTags),
    });
    for (const sample of samples) sink.submit(sample);
    await sink.flush();
    await listener.waitFor(2000);
    const stats = sink.stats();
    assert.equal(stats.dropped, 1);
    assert.equal(stats.samples, 2001);
    assert.ok(
      stats.maxDatagramBytes <= 1432 && stats.maxDatagramBytes > 1300,
      String(stats.maxDatagramBytes),
    );
    assert.ok(listener.datagrams.every((d) => d.length <= 1432));
    assert.equal(listener.lines().length, 2000);
    assert.ok(!listener.lines().some((l) => l.startsWith('too.big')));
    assert.equal(stats.datagrams, listener.datagrams.length);
    assertAllValid(listener.datagrams, 1432);
    await sink.close();
  });

  it('round-trips a non-ASCII event with UTF-8 byte lengths', async () => {
    listener.clear();
    const sink = newSink();
    sink.submit({
      kind: 'event',
      title: '배포 완료 🚀',
      text: '람다 함수\n업데이트됨 ✅',
      timestamp: T,
      alertType: 'success',
      tags: normalizeTags(['env:prod']),
    });
    await sink.flush();
    await listener.waitFor(1);
    const received = listener.datagrams[0]!;
    assert.equal(
      received.toString(),
      '_e{18,34}:배포 완료 🚀|람다 함수\\n업데이트됨 ✅|d:1764028800|t:success|#env:prod',
    );
    assertValidDatagram(received, 1432);
    await sink.close();
  });

  it('an Agent that refuses (closed port): the delivery fails with the reason, health says so, nothing throws', async () => {
    const probe = dgram.createSocket('udp4');
    probe.bind(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = probe.address().port;
    probe.close();
    const sink = new DogStatsdSink({
      transport: 'udp',
      host: '127.0.0.1',
      port,
      logger,
      flushTimeoutMs: 200,
      reconnectInitialDelayMs: 20,
      reconnectMaxDelayMs: 40,
    });
    const delivery = new Delivery();
    for (let i = 0; i < 50; i++) sink.submit(metric(i), delivery);
    await assert.rejects(delivery.settle(), (error: Error) => {
      assert.ok(error instanceof DeliveryError);
      assert.match(
        error.message,
        /50 sample\(s\) not delivered: the Datadog Agent at udp:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/,
      );
      return true;
    });
    assert.equal(sink.health().reachable, false);
    assert.match(sink.health().problem ?? '', /ECONNREFUSED/);
    assert.equal(sink.stats().dropped, 50);
    await sink.close();
    await sink.close();
    sink.submit(metric(100));
    assert.equal(sink.stats().dropped, 51, 'a sample after close is counted as dropped');
  });

  it('a delivery is decided by its own lines only: a refused line fails its group, not the others', async () => {
    listener.clear();
    const sink = newSink();
    const good = new Delivery();
    const bad = new Delivery();
    for (let i = 0; i < 30; i++) sink.submit(metric(i), good);
    const huge = normalizeTags(Array.from({ length: 200 }, (_, i) => `tag${String(i)}:value`));
    sink.submit({ kind: 'metric', metric: 'too.big', type: 'gauge', value: 1, tags: huge }, bad);
    for (let i = 30; i < 60; i++) sink.submit(metric(i), good);
    sink.submit(metric(99), bad);
    await good.settle();
    await assert.rejects(
      bad.settle(),
      /1 sample\(s\) not delivered: a \d+-byte line does not fit a 1432-byte datagram/,
    );
    await listener.waitFor(61);
    assert.equal(listener.lines().length, 61, 'the other line of the failed group was still sent');
    await sink.close();
  });

  it('the Agent stops and comes back on the same port: what counted as delivered arrived, once; the rest failed', async () => {
    const agent = await startUdpListener();
    const sink = new DogStatsdSink({
      transport: 'udp',
      host: '127.0.0.1',
      port: agent.port,
      logger,
      maxDatagramBytes: 100,
      flushTimeoutMs: 5000,
      reconnectInitialDelayMs: 20,
      reconnectMaxDelayMs: 40,
    });
    try {
      const before = new Delivery();
      for (let i = 0; i < 10; i++) sink.submit(metric(i), before);
      await before.settle();
      await agent.goDown();
      const during: Delivery[] = [];
      for (let i = 10; i < 20; i++) {
        const d = new Delivery();
        sink.submit(metric(i), d);
        during.push(d);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
      await agent.comeBack();
      const outcomes = await Promise.allSettled(during.map((d) => d.settle()));
      await sink.flush();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const delivered = outcomes.filter((o) => o.status === 'fulfilled').length;
      const values = agent.lines().map((l) => Number(l.split(':')[1]!.split('|')[0]));
      // Every datagram the sink counted as delivered arrived, once; every refused one failed its group.
      assert.equal(values.length, 10 + delivered, `received ${values.join(',')}`);
      assert.equal(new Set(values).size, values.length, 'nothing twice');
      for (const [i, outcome] of outcomes.entries()) {
        assert.equal(values.includes(10 + i), outcome.status === 'fulfilled', `sample ${10 + i}`);
      }
      assert.ok(delivered >= 5, `most datagrams wait for the Agent and arrive (${delivered} of 10)`);
      assert.equal(sink.health().reachable, true);
    } finally {
      await sink.close();
      await agent.close();
    }
  });

  it('resolves host names (localhost)', async () => {
    listener.clear();
    const sink = new DogStatsdSink({ transport: 'udp', host: 'localhost', port: listener.port, logger });
    sink.submit(metric(7));
    await sink.flush();
    await listener.waitFor(1);
    assert.match(listener.lines()[0]!, /^aws\.lambda\.invocations:7\|c/);
    assertAllValid(listener.datagrams, 1432);
    await sink.close();
  });

  it('validates options with actionable messages', () => {
    assert.throws(
      () => new DogStatsdSink({ transport: 'udp', host: '127.0.0.1', port: 0, logger }),
      /port must be an integer/,
    );
    assert.throws(
      () =>
        new DogStatsdSink({
          transport: 'udp',
          host: '127.0.0.1',
          port: 8125,
          maxDatagramBytes: 9000,
          logger,
        }),
      /maxDatagramBytes must be an integer between 64 and 8192, got 9000/,
    );
    assert.throws(
      () => new DogStatsdSink({ transport: 'uds', path: '', logger }),
      /path must be a non-empty/,
    );
  });
});

describe('DogStatsdSink pacing', () => {
  it('delivers 20,000 lines to a listener in another process with the default receive buffer', async () => {
    const script = fileURLToPath(new URL('../../support/udp-listener-process.js', import.meta.url));
    const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const [ready] = (await once(child, 'message')) as [ListenerProcessMessage];
      assert.equal(ready.type, 'listening');
      const port = ready.type === 'listening' ? ready.port : 0;
      const sink = new DogStatsdSink({ transport: 'udp', host: '127.0.0.1', port, logger });
      const tags = ['functionname:fn-1', 'region:us-east-1', 'aws_account:123456789012', 'host:'];
      const samples: MetricSample[] = [];
      for (let i = 0; i < 20_000; i++) samples.push(metric(i, tags));
      for (const sample of samples) sink.submit(sample);
      await sink.flush();
      await sink.close();

      // Loopback delivery is synchronous, but give the child a moment to read its socket.
      let datagrams: string[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        child.send({ type: 'report' });
        const [report] = (await once(child, 'message')) as [ListenerProcessMessage];
        datagrams = report.type === 'report' ? report.datagrams : [];
        if (datagrams.length === sink.stats().datagrams) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const lines = datagrams.flatMap((d) => d.split('\n'));
      assert.equal(lines.length, 20_000, `received ${String(lines.length)} of 20000 lines`);
      assert.equal(new Set(lines).size, 20_000);
      assertAllValid(
        datagrams.map((d) => Buffer.from(d)),
        1432,
      );
      assert.equal(sink.stats().dropped, 0);
    } finally {
      child.send({ type: 'exit' });
      await once(child, 'exit');
    }
  });
});
