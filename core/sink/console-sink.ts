import type { Delivery } from './delivery.js';
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
 * Writes samples as lines to a stream, for `dogwatch check` and local runs. Lines submitted in one
 * synchronous stretch are written together on the next tick. A sample counts as delivered once the
 * stream accepted its chunk. `flush` resolves once everything submitted was written; `close` flushes
 * and leaves the stream open.
 */
export class ConsoleSink implements Sink {
  private readonly counters: SinkStats = emptySinkStats();
  private readonly format: (sample: Sample) => string;
  private chunk = '';
  private chunkDeliveries: Delivery[] = [];
  private chunkScheduled = false;
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

  submit(sample: Sample, delivery?: Delivery): void {
    this.counters.samples++;
    delivery?.expect();
    if (this.closed) {
      this.counters.dropped++;
      delivery?.failed(1, 'the console output is closed');
      return;
    }
    this.chunk += this.format(sample) + '\n';
    if (delivery) this.chunkDeliveries.push(delivery);
    if (!this.chunkScheduled) {
      this.chunkScheduled = true;
      setImmediate(() => this.writeChunk());
    }
  }

  flush(): Promise<void> {
    this.writeChunk();
    if (this.writesInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  stats(): SinkStats {
    return { ...this.counters };
  }

  private writeChunk(): void {
    this.chunkScheduled = false;
    const chunk = this.chunk;
    const deliveries = this.chunkDeliveries;
    if (chunk === '') return;
    this.chunk = '';
    this.chunkDeliveries = [];
    const bytes = Buffer.byteLength(chunk);
    this.writesInFlight++;
    const done = (error?: Error | null): void => {
      if (error) {
        this.counters.sendErrors++;
        for (const d of deliveries) d.failed(1, `console write failed: ${error.message}`);
      } else {
        this.counters.datagrams++;
        this.counters.bytes += bytes;
        this.counters.maxDatagramBytes = Math.max(this.counters.maxDatagramBytes, bytes);
        for (const d of deliveries) d.delivered(1);
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
