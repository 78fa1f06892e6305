import type { Delivery } from './delivery.js';
import type { Sample } from './samples.js';
import type { Sink, SinkHealth, SinkStats } from './sink.js';

/**
 * Hands every sample to several sinks (e.g. DogStatsD plus a console echo). `stats` reports the
 * samples submitted here once, and sums the other counters over the sinks (the largest datagram
 * is the largest of theirs).
 */
export class FanoutSink implements Sink {
  private samples = 0;
  private closePromise: Promise<void> | undefined;

  constructor(private readonly sinks: readonly Sink[]) {}

  /** The shortest line every sink can carry. */
  get maxLineBytes(): number | undefined {
    const limits = this.sinks.map((sink) => sink.maxLineBytes).filter((n): n is number => n !== undefined);
    return limits.length > 0 ? Math.min(...limits) : undefined;
  }

  /** A sample is delivered when every sink delivered it (each reports to the delivery on its own). */
  submit(sample: Sample, delivery?: Delivery): void {
    this.samples++;
    for (const sink of this.sinks) sink.submit(sample, delivery);
  }

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.flush()));
  }

  close(): Promise<void> {
    this.closePromise ??= Promise.all(this.sinks.map((sink) => sink.close())).then(() => undefined);
    return this.closePromise;
  }

  health(): SinkHealth {
    const sick = this.sinks.map((sink) => sink.health?.()).find((h) => h !== undefined && !h.reachable);
    return sick ?? { reachable: true };
  }

  stats(): SinkStats {
    const total: SinkStats = {
      samples: this.samples,
      datagrams: 0,
      bytes: 0,
      maxDatagramBytes: 0,
      sendErrors: 0,
      dropped: 0,
    };
    for (const sink of this.sinks) {
      const stats = sink.stats();
      total.datagrams += stats.datagrams;
      total.bytes += stats.bytes;
      total.maxDatagramBytes = Math.max(total.maxDatagramBytes, stats.maxDatagramBytes);
      total.sendErrors += stats.sendErrors;
      total.dropped += stats.dropped;
    }
    return total;
  }
}
