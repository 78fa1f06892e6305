export { AgentLogsSink } from './agent-logs-sink.js';
export { ConsoleLogSink, formatLogJson, formatLogText } from './console-log-sink.js';
export { AGENT_MAX_LINE_BYTES, encodeLogLine, type LogRecord, TRUNCATION_MARK } from './log-record.js';
export { emptyLogSinkStats, type LogSink, type LogSinkStats } from './log-sink.js';
export { MemoryLogSink } from './memory-log-sink.js';
export {
  DEFAULT_TCP_LINE_SENDER_TUNING,
  type LogsTarget,
  TcpLineSender,
  type TcpLineSenderTuning,
} from './tcp-line-sender.js';
