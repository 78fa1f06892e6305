import type { Delivery } from '../sink/delivery.js';
import type { LogRecord } from './log-record.js';
import { emptyLogSinkStats, type LogSink, type LogSinkStats } from './log-sink.js';

/** Keeps every record in memory, in submission order: for tests, and for `check --json`. */
export class MemoryLogSink implements LogSink {
  readonly records: LogRecord[] = [];
  private readonly counters = emptyLogSinkStats();
  private closed = false;

  submit(record: LogRecord, delivery?: Delivery): void {
    this.counters.records++;
    delivery?.expect();
    if (this.closed) {
      this.counters.dropped++;
      delivery?.failed(1, 'the sink is closed');
      return;
    }
    this.records.push(record);
    this.counters.lines++;
    delivery?.delivered();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  stats(): LogSinkStats {
    return { ...this.counters };
  }
}
