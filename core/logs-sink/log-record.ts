/**
 * One log record on its way to the Agent. A sink never knows AWS: the source fills `attributes` (for
 * CloudWatch Logs, the Datadog Forwarder's `aws.awslogs.*` and `lambda.*` attributes) and the sink only
 * encodes them.
 */
export interface LogRecord {
  readonly message: string;
  /** Milliseconds since the epoch: when the event happened, not when it was read. */
  readonly timestamp: number;
  /** Datadog's `ddsource` (`lambda`, `apigateway`): it picks the log pipeline. */
  readonly ddsource: string;
  readonly service: string;
  readonly host: string;
  /** `key:value` tags, sent as the comma-separated `ddtags` attribute. */
  readonly tags: readonly string[];
  /** Nested attributes merged into the JSON object; they never override the fields above. */
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/**
 * The Agent cuts a log line longer than this (its default `logs_config.max_message_size_bytes`,
 * 256 000 bytes) into several messages, which would break the JSON; longer messages are truncated
 * first, marked the way the Agent marks its own truncations.
 */
export const AGENT_MAX_LINE_BYTES = 256_000;
export const TRUNCATION_MARK = '...TRUNCATED...';

/**
 * One JSON object, without the newline, at most `maxLineBytes` UTF-8 bytes: the message is truncated
 * when the line would be longer. JSON.stringify escapes newlines, so the object stays on one line.
 */
export function encodeLogLine(record: LogRecord, maxLineBytes = AGENT_MAX_LINE_BYTES): string {
  const line = stringify(record, record.message);
  const excess = Buffer.byteLength(line) - maxLineBytes;
  if (excess <= 0) return line;
  const messageBytes = Buffer.from(record.message);
  // Escaping can make the message's JSON longer than its bytes: cut until the line fits.
  let keep = Math.max(0, messageBytes.length - excess - TRUNCATION_MARK.length);
  for (;;) {
    const cut = messageBytes
      .subarray(0, keep)
      .toString('utf8')
      .replace(/\uFFFD$/, '');
    const shorter = stringify(record, cut + TRUNCATION_MARK);
    if (Buffer.byteLength(shorter) <= maxLineBytes || keep === 0) return shorter;
    keep = Math.max(0, keep - (Buffer.byteLength(shorter) - maxLineBytes));
  }
}

function stringify(record: LogRecord, message: string): string {
  return JSON.stringify({
    ...record.attributes,
    message,
    timestamp: record.timestamp,
    ddsource: record.ddsource,
    service: record.service,
    host: record.host,
    ddtags: record.tags.join(','),
  });
}
