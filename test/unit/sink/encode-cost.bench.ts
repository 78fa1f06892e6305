/**
 * Encode cost per DogStatsD line, measured outside the test runner (timings in tests are flaky).
 * Run: node dist-sink/test/unit/sink/encode-cost.bench.js
 * Shape of a run: 100,000 points over 2,000 series of 50 points, series sharing one tags array, as
 * the engine hands them over.
 */
import { normalizeTags } from '../../../core/check/normalize.js';
import { encodeMetric, encodeSample } from '../../../core/sink/dogstatsd-format.js';
import type { MetricSample } from '../../../core/sink/samples.js';

const SERIES = 2_000;
const POINTS = 50;
const ROUNDS = 20;

function buildRun(): MetricSample[] {
  const samples: MetricSample[] = [];
  for (let s = 0; s < SERIES; s++) {
    const tags = [
      `functionname:fn-${String(s)}`,
      `resource:fn-${String(s)}`,
      'region:us-east-1',
      'aws_account:123456789012',
      'runtime:nodejs20.x',
      'memorysize:1024',
      'architecture:arm64',
      'host:',
    ];
    for (let p = 0; p < POINTS; p++) {
      samples.push({
        kind: 'metric',
        metric: s % 2 ? 'aws.lambda.duration.p99' : 'aws.lambda.invocations',
        type: s % 2 ? 'gauge' : 'count',
        value: s % 2 ? 123.456789 + p / 7 : p * 3,
        timestamp: 1764028800 + p * 60,
        tags: normalizeTags(tags),
      });
    }
  }
  return samples;
}

function measure(
  label: string,
  samples: readonly MetricSample[],
  encode: (s: MetricSample) => string | undefined,
): void {
  let bytes = 0;
  for (const s of samples) bytes += encode(s)?.length ?? 0; // warm-up
  const start = process.hrtime.bigint();
  for (let r = 0; r < ROUNDS; r++) for (const s of samples) bytes += encode(s)?.length ?? 0;
  const ns = Number(process.hrtime.bigint() - start);
  const perLine = ns / (ROUNDS * samples.length) / 1000;
  console.log(
    `${label}: ${perLine.toFixed(3)} µs/line (${String(ROUNDS * samples.length)} lines, checksum ${String(bytes)})`,
  );
}

const run = buildRun();
measure('encodeMetric, shared tags arrays', run, encodeMetric);
measure('encodeSample, shared tags arrays', run, encodeSample);
measure('encodeMetric + Buffer.byteLength', run, (s) => {
  const line = encodeMetric(s);
  if (line !== undefined) Buffer.byteLength(line);
  return line;
});
const fresh = run.map((s) => ({ ...s, tags: normalizeTags([...s.tags]) }));
measure('encodeMetric, a new tags array per point', fresh, encodeMetric);

/** submitMany (encode + pack into 1432-byte datagrams), then the paced send to a local UDP port. */
async function measureSink(): Promise<void> {
  const { DogStatsdSink } = await import('../../../core/sink/dogstatsd-sink.js');
  const { createSilentLogger } = await import('../../../core/log/logger.js');
  const dgram = await import('node:dgram');
  const receiver = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  receiver.on('message', () => undefined);
  for (let round = 1; round <= 3; round++) {
    const sink = new DogStatsdSink({
      transport: 'udp',
      host: '127.0.0.1',
      port: receiver.address().port,
      logger: createSilentLogger(),
    });
    const start = process.hrtime.bigint();
    for (const sample of run) sink.submit(sample);
    const submitted = process.hrtime.bigint();
    await sink.flush();
    const flushed = process.hrtime.bigint();
    const perLine = Number(submitted - start) / run.length / 1000;
    const { datagrams, dropped } = sink.stats();
    console.log(
      `round ${String(round)}: DogStatsdSink.submitMany ${perLine.toFixed(3)} µs/line; paced send of ` +
        `${String(datagrams)} datagrams (${String(dropped)} dropped): ${(Number(flushed - submitted) / 1e6).toFixed(0)} ms`,
    );
    await sink.close();
  }
  receiver.close();
}

await measureSink();
