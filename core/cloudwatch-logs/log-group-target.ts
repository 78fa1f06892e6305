import type { LogRecord } from '../logs-sink/log-record.js';
import type { FilteredLogEvent } from './filter-log-events.js';
import type { LogMetricsDerivation } from './log-minute-metrics.js';

/**
 * One log group to collect, as the check describes it: the source reads it and never knows which
 * integration it serves; everything integration-specific (source, service, attributes, how a message
 * yields more attributes) comes in here.
 */
export interface LogGroupTarget {
  readonly region: string;
  readonly accountId: string;
  readonly logGroupName: string;
  /** `ddsource` of every record (`lambda`, `apigateway`). */
  readonly ddsource: string;
  readonly service: string;
  readonly host: string;
  readonly tags: readonly string[];
  /** Attributes every record of the group carries (e.g. `lambda.arn`). */
  readonly attributes?: Readonly<Record<string, unknown>>;
  /** Attributes read from one message (a request id, a JSON access log's fields). */
  readonly attributesOf?: (message: string) => Record<string, unknown> | undefined;
  /** Per-minute metrics derived from the group's events (Lambda's enhanced metrics), sent exactly once. */
  readonly metrics?: LogMetricsDerivation;
}

/**
 * The record for one CloudWatch Logs event, with the Datadog Forwarder's attributes: `id`,
 * `aws.awslogs.{logGroup, logStream, owner}` (owner: the account), then the target's own.
 */
export function logRecordOf(target: LogGroupTarget, event: FilteredLogEvent): LogRecord {
  const own = target.attributesOf?.(event.message);
  return {
    message: event.message,
    timestamp: event.timestamp,
    ddsource: target.ddsource,
    service: target.service,
    host: target.host,
    tags: target.tags,
    attributes: mergeAttributes(
      {
        id: event.eventId,
        aws: {
          awslogs: { logGroup: target.logGroupName, logStream: event.logStreamName, owner: target.accountId },
        },
      },
      target.attributes,
      own,
    ),
  };
}

/** Deep merge of plain objects; later sources win on conflicts. */
function mergeAttributes(
  ...sources: (Readonly<Record<string, unknown>> | undefined)[]
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const source of sources) {
    if (!source) continue;
    for (const [key, value] of Object.entries(source)) {
      const existing = out[key];
      out[key] = isPlainObject(existing) && isPlainObject(value) ? mergeAttributes(existing, value) : value;
    }
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
