import type { Delivery } from './delivery.js';
import type { EventSample, MetricSample, Sample, ServiceCheckSample } from './samples.js';
import { emptySinkStats, type Sink, type SinkStats } from './sink.js';

/**
 * Keeps every sample in memory, in submission order. For tests, including users' tests of their own
 * checks: assert on what a check emitted without a socket. After `close`, further samples are
 * counted as dropped and not kept, as a real sink would.
 */
export class MemorySink implements Sink {
  readonly samples: Sample[] = [];
  private readonly counters: SinkStats = emptySinkStats();
  private closed = false;

  submit(sample: Sample, delivery?: Delivery): void {
    this.counters.samples++;
    delivery?.expect();
    if (this.closed) {
      this.counters.dropped++;
      delivery?.failed(1, 'the sink is closed');
      return;
    }
    this.samples.push(sample);
    delivery?.delivered();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  stats(): SinkStats {
    return { ...this.counters };
  }

  /** Metric samples, all or those named `metric`. */
  metrics(metric?: string): MetricSample[] {
    return this.samples.filter(
      (s): s is MetricSample => s.kind === 'metric' && (metric === undefined || s.metric === metric),
    );
  }

  /** The first metric sample named `metric` (with every tag in `tags`, if given), or undefined. */
  findMetric(metric: string, tags: readonly string[] = []): MetricSample | undefined {
    return this.metrics(metric).find((s) => tags.every((tag) => s.tags.includes(tag)));
  }

  /** Distinct metric names, sorted. */
  metricNames(): string[] {
    return [...new Set(this.metrics().map((s) => s.metric))].sort();
  }

  events(): EventSample[] {
    return this.samples.filter((s): s is EventSample => s.kind === 'event');
  }

  /** Service checks, all or those named `name`. */
  serviceChecks(name?: string): ServiceCheckSample[] {
    return this.samples.filter(
      (s): s is ServiceCheckSample => s.kind === 'service_check' && (name === undefined || s.name === name),
    );
  }

  /** Forgets the samples kept so far; counters are kept. */
  clear(): void {
    this.samples.length = 0;
  }
}
