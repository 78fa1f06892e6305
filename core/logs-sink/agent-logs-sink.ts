import type { Logger } from '../log/logger.js';
import type { Delivery } from '../sink/delivery.js';
import type { SinkHealth } from '../sink/sink.js';
import { AGENT_MAX_LINE_BYTES, encodeLogLine, type LogRecord, TRUNCATION_MARK } from './log-record.js';
import type { LogsTarget } from './tcp-line-sender.js';
import { emptyLogSinkStats, type LogSink, type LogSinkStats } from './log-sink.js';
import {
  DEFAULT_TCP_LINE_SENDER_TUNING,
  TcpLineSender,
  type TcpLineSenderCounters,
  type TcpLineSenderTuning,
} from './tcp-line-sender.js';

/**
 * Sends log records to the Agent's TCP logs listener (`logs_config` → a `tcp` source on `port`), one
 * JSON object per line. The Agent forwards each line as one log; Datadog parses the JSON into the
 * log's message and attributes.
 */
export class AgentLogsSink implements LogSink {
  private readonly counters: TcpLineSenderCounters = {
    lines: 0,
    bytes: 0,
    writes: 0,
    sendErrors: 0,
    dropped: 0,
  };
  private readonly sender: TcpLineSender;
  private records = 0;
  private truncated = 0;

  constructor(
    target: LogsTarget,
    logger: Logger,
    tuning: TcpLineSenderTuning = DEFAULT_TCP_LINE_SENDER_TUNING,
    private readonly maxLineBytes = AGENT_MAX_LINE_BYTES,
  ) {
    this.sender = new TcpLineSender(target, tuning, logger, this.counters);
  }

  submit(record: LogRecord, delivery?: Delivery): void {
    this.records++;
    const line = encodeLogLine(record, this.maxLineBytes);
    if (line.includes(TRUNCATION_MARK) && !record.message.includes(TRUNCATION_MARK)) this.truncated++;
    this.sender.enqueue(Buffer.from(`${line}\n`), delivery);
  }

  room(records?: number): Promise<void> {
    return this.sender.room(records);
  }

  flush(): Promise<void> {
    return this.sender.idle();
  }

  close(): Promise<void> {
    return this.sender.close();
  }

  stats(): LogSinkStats {
    return {
      ...emptyLogSinkStats(),
      records: this.records,
      lines: this.counters.lines,
      bytes: this.counters.bytes,
      truncated: this.truncated,
      sendErrors: this.counters.sendErrors,
      dropped: this.counters.dropped,
      queuedBytes: this.sender.pendingBytes,
    };
  }

  health(): SinkHealth {
    return this.sender.health();
  }
}
