/**
 * What Lambda's log lines say about an invocation, as the Datadog Forwarder reads them
 * (`aws/logs_monitoring/enhanced_lambda_metrics.py` in DataDog/datadog-serverless-functions): the
 * platform's REPORT line (Text format) or `platform.report` record (JSON format), the runtime's
 * `Task timed out after N seconds`, and the runtimes' out-of-memory messages.
 */

/** One invocation's REPORT. Durations in milliseconds, memory in MB, as Lambda writes them. */
export interface LambdaReport {
  readonly kind: 'report';
  readonly requestId: string;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  readonly memorySizeMb: number;
  readonly maxMemoryUsedMb: number;
  /** Present on a cold start only. */
  readonly initDurationMs?: number;
  /**
   * `success`, `error`, `timeout`, … (Text: `Status:`; JSON: `record.status`). Absent when the line
   * has none: Lambda writes it on failed invocations, and older platform versions never do.
   */
  readonly status?: string;
  /** `Runtime.OutOfMemory`, … (Text: `Error Type:`; JSON: `record.errorType`). */
  readonly errorType?: string;
}

export interface LambdaTimeoutLine {
  readonly kind: 'timeout';
  readonly requestId?: string;
  readonly seconds: number;
}

export interface LambdaOutOfMemoryLine {
  readonly kind: 'out_of_memory';
  readonly requestId?: string;
}

export type LambdaLogSignal = LambdaReport | LambdaTimeoutLine | LambdaOutOfMemoryLine;

/** The error type Lambda gives an invocation killed for exceeding its memory. */
export const OUT_OF_MEMORY_ERROR_TYPE = 'Runtime.OutOfMemory';

/**
 * The runtimes' out-of-memory messages (Go, Java, Node.js, Python, Ruby, .NET) and the platform's own
 * for a runtime killed at its memory limit, as the Datadog Forwarder lists them.
 */
const OUT_OF_MEMORY_MESSAGES = [
  'fatal error: runtime: out of memory',
  'java.lang.OutOfMemoryError',
  'JavaScript heap out of memory',
  'Runtime exited with error: signal: killed',
  'MemoryError',
  'failed to allocate memory (NoMemoryError)',
  'OutOfMemoryException',
];

const UUID = '[0-9a-fA-F-]{36}';
/** Fields may be separated by tabs (what Lambda writes) or spaces (what people paste). */
const TEXT_REPORT = new RegExp(
  `^REPORT RequestId: (${UUID})\\s+Duration: (\\d+(?:\\.\\d+)?) ms\\s+Billed Duration: (\\d+(?:\\.\\d+)?) ms` +
    `\\s+Memory Size: (\\d+) MB\\s+Max Memory Used: (\\d+) MB`,
);
const INIT_DURATION = /\bInit Duration: (\d+(?:\.\d+)?) ms/;
const STATUS = /\bStatus: ([A-Za-z.]+)/;
const ERROR_TYPE = /\bError Type: ([A-Za-z.]+)/;
const TIMED_OUT = /Task timed out after (\d+(?:\.\d+)?) seconds/;
const REQUEST_ID = new RegExp(`(?:RequestId: |\\s|^)(${UUID})(?:\\s|$)`);

/** The signal one log message carries, if any. */
export function parseLambdaLogLine(message: string): LambdaLogSignal | undefined {
  if (message.startsWith('REPORT ')) return parseTextReport(message);
  if (message.startsWith('{')) {
    const json = parseJsonRecord(message);
    if (json !== undefined) return json;
  }
  const timedOut = TIMED_OUT.exec(message);
  if (timedOut) return { kind: 'timeout', seconds: Number(timedOut[1]), ...requestIdOf(message) };
  if (OUT_OF_MEMORY_MESSAGES.some((m) => message.includes(m)))
    return { kind: 'out_of_memory', ...requestIdOf(message) };
  return undefined;
}

function parseTextReport(message: string): LambdaReport | undefined {
  const m = TEXT_REPORT.exec(message);
  if (!m) return undefined;
  const init = INIT_DURATION.exec(message)?.[1];
  const status = STATUS.exec(message)?.[1];
  const errorType = ERROR_TYPE.exec(message)?.[1];
  return {
    kind: 'report',
    requestId: m[1]!,
    durationMs: Number(m[2]),
    billedDurationMs: Number(m[3]),
    memorySizeMb: Number(m[4]),
    maxMemoryUsedMb: Number(m[5]),
    ...(init !== undefined ? { initDurationMs: Number(init) } : {}),
    ...(status !== undefined ? { status: status.toLowerCase() } : {}),
    ...(errorType !== undefined ? { errorType } : {}),
  };
}

/** A JSON-format `platform.report` record; a JSON application record is read for the timeout/OOM text. */
function parseJsonRecord(message: string): LambdaLogSignal | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  if (parsed['type'] !== 'platform.report') return undefined;
  const record = parsed['record'];
  if (!isObject(record) || !isObject(record['metrics'])) return undefined;
  const metrics = record['metrics'];
  const requestId = record['requestId'];
  const duration = metrics['durationMs'];
  const billed = metrics['billedDurationMs'];
  const size = metrics['memorySizeMB'];
  const used = metrics['maxMemoryUsedMB'];
  if (
    typeof requestId !== 'string' ||
    !isNumber(duration) ||
    !isNumber(billed) ||
    !isNumber(size) ||
    !isNumber(used)
  )
    return undefined;
  const init = metrics['initDurationMs'];
  const status = record['status'];
  const errorType = record['errorType'];
  return {
    kind: 'report',
    requestId,
    durationMs: duration,
    billedDurationMs: billed,
    memorySizeMb: size,
    maxMemoryUsedMb: used,
    ...(isNumber(init) ? { initDurationMs: init } : {}),
    ...(typeof status === 'string' ? { status: status.toLowerCase() } : {}),
    ...(typeof errorType === 'string' ? { errorType } : {}),
  };
}

function requestIdOf(message: string): { requestId?: string } {
  const id = REQUEST_ID.exec(message)?.[1];
  return id !== undefined ? { requestId: id } : {};
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
