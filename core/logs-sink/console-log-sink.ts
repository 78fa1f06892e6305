import type { Delivery } from '../sink/delivery.js';
import type { LogRecord } from './log-record.js';
import { emptyLogSinkStats, type LogSink, type LogSinkStats } from './log-sink.js';

/**
 * `dogwatch check`: each log record it would send, on the stream beside the metric lines. JSON:
 * `{"kind":"log","ddsource":…,"service":…,"host":…,"timestamp":…,"message":…,"ddtags":…,"attributes":{…}}`;
 * text: `log <ISO time> <ddsource> <service> <JSON-quoted message>`.
 */
export class ConsoleLogSink implements LogSink {
  private readonly counters = emptyLogSinkStats();

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly format: 'text' | 'json',
  ) {}

  submit(record: LogRecord, delivery?: Delivery): void {
    delivery?.expect();
    this.counters.records++;
    this.counters.lines++;
    this.stream.write(`${this.format === 'json' ? formatLogJson(record) : formatLogText(record)}\n`);
    delivery?.delivered();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  stats(): LogSinkStats {
    return { ...this.counters };
  }
}

export function formatLogJson(record: LogRecord): string {
  return JSON.stringify({
    kind: 'log',
    ddsource: record.ddsource,
    service: record.service,
    host: record.host,
    timestamp: record.timestamp,
    message: record.message,
    ddtags: record.tags.join(','),
    attributes: record.attributes ?? {},
  });
}

export function formatLogText(record: LogRecord): string {
  return (
    `log ${new Date(record.timestamp).toISOString()} ${record.ddsource} ${record.service} ` +
    JSON.stringify(record.message)
  );
}
