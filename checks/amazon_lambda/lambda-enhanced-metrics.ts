import type { FilteredLogEvent } from '../../core/cloudwatch-logs/filter-log-events.js';
import type {
  LogMeasurement,
  LogMetricOutput,
  LogMetricsDerivation,
} from '../../core/cloudwatch-logs/log-minute-metrics.js';
import { normalizeTag } from '../../core/check/normalize.js';
import { OUT_OF_MEMORY_ERROR_TYPE, parseLambdaLogLine, type LambdaReport } from './lambda-report-parser.js';

/**
 * Lambda's published prices (https://aws.amazon.com/lambda/pricing/, US East (N. Virginia), first
 * tier; the same figures as the Datadog Forwarder and Lambda extension): $0.20 per million requests,
 * $0.0000166667 per GB-second on x86_64 and $0.0000133334 on arm64. A GB is 1,024 MB here, as Lambda
 * bills it. Other regions, tiers beyond 6 billion GB-seconds a month and Savings Plans cost less or
 * more: `estimated_cost` is an estimate, as Datadog's is.
 */
export const LAMBDA_PRICES = {
  perRequestUsd: 0.0000002,
  perGbSecondUsd: { x86_64: 0.0000166667, arm64: 0.0000133334 },
} as const;

/** Fields are kept in integers where Lambda's figures allow (hundredths of ms, MB), so sums are exact. */
const HUNDREDTHS_OF_MS_TO_S = 1e-5;

/**
 * The enhanced metrics, per minute (the one an invocation started in, as CloudWatch stamps its own
 * Lambda metrics) and tag set. Counts are the minute's totals; gauges its average (no suffix), maximum
 * or sum, as dogwatch names CloudWatch statistics. Units are Datadog's: seconds, MB, US dollars.
 */
export const ENHANCED_METRIC_OUTPUTS: readonly LogMetricOutput[] = [
  { metric: 'aws.lambda.enhanced.invocations', type: 'count', field: 'invocations', stat: 'sum' },
  { metric: 'aws.lambda.enhanced.errors', type: 'count', field: 'errors', stat: 'sum' },
  { metric: 'aws.lambda.enhanced.timeouts', type: 'count', field: 'timeouts', stat: 'sum' },
  { metric: 'aws.lambda.enhanced.out_of_memory', type: 'count', field: 'out_of_memory', stat: 'sum' },
  { metric: 'aws.lambda.enhanced.estimated_cost', type: 'count', field: 'estimated_cost', stat: 'sum' },
  ...seconds('duration', ['avg', 'max', 'sum']),
  ...seconds('billed_duration', ['avg', 'sum']),
  ...seconds('init_duration', ['avg', 'max']),
  { metric: 'aws.lambda.enhanced.max_memory_used', type: 'gauge', field: 'max_memory_used', stat: 'avg' },
  {
    metric: 'aws.lambda.enhanced.max_memory_used.maximum',
    type: 'gauge',
    field: 'max_memory_used',
    stat: 'max',
  },
];

function seconds(field: string, stats: readonly ('avg' | 'max' | 'sum')[]): LogMetricOutput[] {
  const suffix = { avg: '', max: '.maximum', sum: '.sum' } as const;
  return stats.map((stat) => ({
    metric: `aws.lambda.enhanced.${field}${suffix[stat]}`,
    type: 'gauge',
    field,
    stat,
    scale: HUNDREDTHS_OF_MS_TO_S,
  }));
}

/** What the enhanced metrics of one function's log group are tagged with and priced at. */
export interface EnhancedFunction {
  /** The function's CloudWatch `FunctionName` (a Lambda@Edge replica: `us-east-1.<name>`). */
  readonly functionName: string;
  readonly region: string;
  readonly accountId: string;
  readonly runtime?: string;
  readonly architecture?: string;
  /** Seconds; a REPORT line is written at most this long after its invocation started. */
  readonly timeoutSeconds?: number;
  /** Descriptive tags after the identity ones (Lambda@Edge, the function's AWS tags). */
  readonly extraTags: readonly string[];
}

/** Lambda's longest timeout: the span of a function whose own is unknown. */
const MAX_TIMEOUT_S = 900;
/** Lambda's limit on a (non-provisioned) init phase, before the invocation's own Duration begins. */
const INIT_PHASE_MAX_S = 10;

/**
 * The derivation of one function's enhanced metrics from its log group: one measurement per REPORT
 * line (Text) or `platform.report` record (JSON), counted in the minute the invocation started
 * (the line's time minus its Duration) so that the minutes line up with CloudWatch's Invocations and
 * Duration. Timeouts, out-of-memory kills and errors are read from the same REPORT's Status and Error
 * Type, so one invocation counts once, in one minute, with one tag set; the runtimes' `Task timed out`
 * and out-of-memory lines say the same thing again and are not counted a second time.
 */
export function lambdaEnhancedMetrics(fn: EnhancedFunction): LogMetricsDerivation {
  const price =
    fn.architecture === 'arm64' ? LAMBDA_PRICES.perGbSecondUsd.arm64 : LAMBDA_PRICES.perGbSecondUsd.x86_64;
  return {
    outputs: ENHANCED_METRIC_OUTPUTS,
    // Its REPORT comes when the invocation ends: at most its init phase (10 s, on a cold start), then
    // its timeout, after it started; +1 s for the rounding of the line's time.
    spanMs: ((fn.timeoutSeconds ?? MAX_TIMEOUT_S) + INIT_PHASE_MAX_S + 1) * 1000,
    measure: (event) => {
      const signal = parseLambdaLogLine(event.message);
      return signal?.kind === 'report' ? measurementOf(fn, price, event, signal) : undefined;
    },
  };
}

function measurementOf(
  fn: EnhancedFunction,
  pricePerGbSecond: number,
  event: FilteredLogEvent,
  report: LambdaReport,
): LogMeasurement {
  const init = report.initDurationMs;
  const cold = init !== undefined;
  const identity = [
    `functionname:${fn.functionName}`,
    `resource:${fn.functionName}`,
    `region:${fn.region}`,
    `aws_account:${fn.accountId}`,
    `memorysize:${report.memorySizeMb}`,
    `cold_start:${cold}`,
    `executedversion:${executedVersion(event.logStreamName)}`,
    ...(fn.runtime ? [`runtime:${fn.runtime}`] : []),
  ];
  // Normalised here too (the runtime does it again): tags that only differ in case are one series, one bucket.
  const normalized = (list: readonly string[]): string[] =>
    list.map(normalizeTag).filter((t): t is string => t !== undefined);
  const identityTags = normalized(identity);
  const tags = [
    ...identityTags,
    ...normalized([...(fn.architecture ? [`architecture:${fn.architecture}`] : []), ...fn.extraTags]),
  ];
  const status = report.status ?? 'success';
  const timedOut = status === 'timeout';
  const outOfMemory = report.errorType === OUT_OF_MEMORY_ERROR_TYPE;
  const cost =
    LAMBDA_PRICES.perRequestUsd +
    (report.billedDurationMs / 1000) * (report.memorySizeMb / 1024) * pricePerGbSecond;
  return {
    timeMs: event.timestamp - report.durationMs,
    tags,
    identityTags: identityTags.length,
    values: {
      invocations: 1,
      errors: status === 'success' ? 0 : 1,
      timeouts: timedOut ? 1 : 0,
      out_of_memory: outOfMemory ? 1 : 0,
      estimated_cost: cost,
      duration: Math.round(report.durationMs * 100),
      billed_duration: Math.round(report.billedDurationMs * 100),
      max_memory_used: report.maxMemoryUsedMb,
      ...(init !== undefined ? { init_duration: Math.round(init * 100) } : {}),
    },
  };
}

/** `2024/01/01/[$LATEST]abc…` → `$LATEST`; `[12]` → `12`. A stream named otherwise: `$LATEST`. */
function executedVersion(logStreamName: string): string {
  return /\[([^\]]+)\]/.exec(logStreamName)?.[1] ?? '$LATEST';
}
