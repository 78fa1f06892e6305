import { formatMetricValue } from './dogstatsd-format.js';
import type { EventSample, MetricSample, Sample, ServiceCheckSample } from './samples.js';
import { emptySinkStats, type Sink, type SinkStats } from './sink.js';

export type ConsoleSinkFormat = 'text' | 'json';

export interface ConsoleSinkOptions {
  /** Where lines go, e.g. process.stdout. The sink never ends it: the caller owns it. */
  readonly stream: NodeJS.WritableStream;
  /** `text`: one readable line per sample. `json`: one JSON object per line (JSON Lines). */
  readonly format: ConsoleSinkFormat;
}

const STATUS_NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/** `2025-11-25T00:00:00Z`: whole seconds without the `.000` JavaScript adds. */
function isoSeconds(unixSeconds: number): string {
  const iso = new Date(unixSeconds * 1000).toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
}

function when(timestamp: number | undefined): string {
  return timestamp === undefined ? '' : ` @${isoSeconds(timestamp)}`;
}

function tagList(tags: readonly string[]): string {
  return tags.length === 0 ? '' : ` ${tags.join(',')}`;
}

/**
 * `count aws.lambda.invocations 3 @2025-11-25T00:00:00Z functionname:f1,region:us-east-1`;
 * events and service checks follow the same shape, free text last and JSON-quoted.
 */
export function formatSampleText(sample: Sample): string {
  switch (sample.kind) {
    case 'metric':
      return (
        `${sample.type} ${sample.metric} ${formatMetricValue(sample.value) ?? String(sample.value)}` +
        `${when(sample.timestamp)}${tagList(sample.tags)}`
      );
    case 'event':
      return (
        `event ${sample.alertType ?? 'info'} ${JSON.stringify(sample.title)}${when(sample.timestamp)}` +
        `${tagList(sample.tags)} ${JSON.stringify(sample.text)}`
      );
    case 'service_check':
      return (
        `service_check ${sample.name} ${STATUS_NAMES[sample.status] ?? String(sample.status)}` +
        `${when(sample.timestamp)}${tagList(sample.tags)}` +
        (sample.message === undefined ? '' : ` ${JSON.stringify(sample.message)}`)
      );
  }
}

/**
 * One JSON object with the fields of samples.ts in a fixed order, e.g.
 * `{"kind":"metric","metric":"aws.lambda.invocations","type":"count","value":3,"timestamp":1764028800,"tags":[…]}`.
 * Absent optional fields are left out.
 */
export function formatSampleJson(sample: Sample): string {
  switch (sample.kind) {
    case 'metric': {
      const { metric, type, value, timestamp, tags }: MetricSample = sample;
      return JSON.stringify({ kind: 'metric', metric, type, value, timestamp, tags });
    }
    case 'event': {
      const e: EventSample = sample;
      return JSON.stringify({
        kind: 'event',
        title: e.title,
        text: e.text,
        timestamp: e.timestamp,
        hostname: e.hostname,
        aggregationKey: e.aggregationKey,
        priority: e.priority,
        sourceTypeName: e.sourceTypeName,
        alertType: e.alertType,
        tags: e.tags,
      });
    }
    case 'service_check': {
      const c: ServiceCheckSample = sample;
      return JSON.stringify({
        kind: 'service_check',
        name: c.name,
        status: c.status,
        timestamp: c.timestamp,
        hostname: c.hostname,
        message: c.message,
        tags: c.tags,
      });
    }
  }
}

/**
 * Writes samples as lines to a stream, for `dogwatch check` and local runs. `flush` resolves once
 * the stream accepted everything written; `close` flushes and leaves the stream open.
 */
export class ConsoleSink implements Sink {
  private readonly counters: SinkStats = emptySinkStats();
  private readonly format: (sample: Sample) => string;
  /** Writes whose callback has not come back; flush waits for zero. */
  private writesInFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: ConsoleSinkOptions) {
    if (options.format !== 'text' && options.format !== 'json') {
      throw new Error(`ConsoleSink: format must be "text" or "json", got ${String(options.format)}`);
    }
    this.format = options.format === 'json' ? formatSampleJson : formatSampleText;
  }

  submit(sample: Sample): void {
    this.submitMany([sample]);
  }

  submitMany(samples: readonly Sample[]): void {
    let chunk = '';
    for (const sample of samples) {
      this.counters.samples++;
      if (this.closed) {
        this.counters.dropped++;
        continue;
      }
      chunk += this.format(sample) + '\n';
    }
    if (chunk !== '') this.write(chunk);
  }

  flush(): Promise<void> {
    if (this.writesInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  stats(): SinkStats {
    return { ...this.counters };
  }

  private write(chunk: string): void {
    const bytes = Buffer.byteLength(chunk);
    this.writesInFlight++;
    const done = (error?: Error | null): void => {
      if (error) this.counters.sendErrors++;
      else {
        this.counters.datagrams++;
        this.counters.bytes += bytes;
        this.counters.maxDatagramBytes = Math.max(this.counters.maxDatagramBytes, bytes);
      }
      if (--this.writesInFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    };
    try {
      this.options.stream.write(chunk, done);
    } catch (error) {
      done(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
