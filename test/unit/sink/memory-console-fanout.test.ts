import assert from 'node:assert/strict';
import { normalizeTags } from '../../../core/check/normalize.js';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ConsoleSink } from '../../../core/sink/console-sink.js';
import { FanoutSink } from '../../../core/sink/fanout-sink.js';
import { MemorySink } from '../../../core/sink/memory-sink.js';
import type { Sample } from '../../../core/sink/samples.js';

const metric: Sample = {
  kind: 'metric',
  metric: 'aws.lambda.invocations',
  type: 'count',
  value: 3,
  timestamp: 1764028800,
  tags: normalizeTags(['functionname:f1', 'region:us-east-1']),
};
const event: Sample = {
  kind: 'event',
  title: 'Deploy',
  text: 'done',
  alertType: 'success',
  tags: normalizeTags([]),
};
const check: Sample = {
  kind: 'service_check',
  name: 'aws.lambda.can_connect',
  status: 2,
  message: 'AccessDenied',
  tags: normalizeTags(['region:us-east-1']),
};

async function consoleOutput(format: 'text' | 'json', samples: readonly Sample[]): Promise<string[]> {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const sink = new ConsoleSink({ stream, format });
  for (const sample of samples) sink.submit(sample);
  await sink.close();
  await sink.close();
  return chunks
    .join('')
    .split('\n')
    .filter((l) => l !== '');
}

describe('MemorySink', () => {
  it('keeps samples and finds them', async () => {
    const sink = new MemorySink();
    for (const sample of [metric, event, check]) sink.submit(sample);
    sink.submit({ ...metric, value: 4, tags: normalizeTags(['functionname:f2']) });
    assert.equal(sink.metrics('aws.lambda.invocations').length, 2);
    assert.equal(sink.findMetric('aws.lambda.invocations', ['functionname:f2'])?.value, 4);
    assert.equal(sink.findMetric('aws.lambda.errors'), undefined);
    assert.deepEqual(sink.metricNames(), ['aws.lambda.invocations']);
    assert.equal(sink.events().length, 1);
    assert.equal(sink.serviceChecks('aws.lambda.can_connect')[0]?.status, 2);
    sink.clear();
    assert.equal(sink.samples.length, 0);
    assert.equal(sink.stats().samples, 4);
    await sink.close();
    sink.submit(metric);
    assert.equal(sink.stats().dropped, 1);
  });
});

describe('ConsoleSink', () => {
  it('writes JSON lines with the fields of samples.ts', async () => {
    assert.deepEqual(await consoleOutput('json', [metric, event, check]), [
      '{"kind":"metric","metric":"aws.lambda.invocations","type":"count","value":3,"timestamp":1764028800,"tags":["functionname:f1","region:us-east-1"]}',
      '{"kind":"event","title":"Deploy","text":"done","alertType":"success","tags":[]}',
      '{"kind":"service_check","name":"aws.lambda.can_connect","status":2,"message":"AccessDenied","tags":["region:us-east-1"]}',
    ]);
  });

  it('writes readable lines', async () => {
    assert.deepEqual(await consoleOutput('text', [metric, event, check]), [
      'count aws.lambda.invocations 3 @2025-11-25T00:00:00Z functionname:f1,region:us-east-1',
      'event success "Deploy" "done"',
      'service_check aws.lambda.can_connect CRITICAL region:us-east-1 "AccessDenied"',
    ]);
  });

  it('refuses an unknown format', () => {
    const format = 'xml' as unknown as 'json';
    assert.throws(
      () => new ConsoleSink({ stream: new PassThrough(), format }),
      /format must be "text" or "json"/,
    );
  });
});

describe('FanoutSink', () => {
  it('hands every sample to every sink', async () => {
    const a = new MemorySink();
    const b = new MemorySink();
    const sink = new FanoutSink([a, b]);
    sink.submit(metric);
    for (const sample of [event, check]) sink.submit(sample);
    await sink.flush();
    assert.equal(a.samples.length, 3);
    assert.equal(b.samples.length, 3);
    assert.equal(sink.stats().samples, 3);
    await sink.close();
    await sink.close();
  });
});
