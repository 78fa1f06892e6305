import type { LogGroupTarget } from '../../core/cloudwatch-logs/log-group-target.js';
import type { LogMetricsDerivation } from '../../core/cloudwatch-logs/log-minute-metrics.js';
import {
  EDGE_MASTER_REGION,
  type EdgeReplicaInfo,
  type LambdaFunctionInfo,
  type LambdaInventory,
} from './lambda-inventory.js';

/** What a Lambda log group's records carry besides what the source adds. */
export interface LambdaLogOptions {
  readonly region: string;
  readonly accountId: string;
  /** The instance's `service`, over the function name. */
  readonly service?: string;
  /** Tags per function name (`key:value`), e.g. the function's AWS tags and the instance's tags. */
  readonly tagsOf: (functionName: string) => readonly string[];
  /** The function's AWS tags, for `tag_filters` (a replica: its master's). */
  readonly awsTagsOf?: (functionName: string) => Readonly<Record<string, string>> | undefined;
  /** The enhanced metrics of a function's group (`enhanced_metrics`); a replica's with its master. */
  readonly metricsOf?: (fn: LambdaFunctionInfo, edge?: EdgeReplicaInfo) => LogMetricsDerivation | undefined;
}

/** A function's log group with the name `include`/`exclude` match and the tags `tag_filters` judge. */
export interface LambdaLogGroup {
  readonly target: LogGroupTarget;
  readonly resourceName: string;
  readonly awsTags?: Readonly<Record<string, string>>;
}

/**
 * The log groups of a region's functions, as the Datadog Forwarder labels them: `ddsource:lambda`,
 * `host` and `lambda.arn` the function's ARN, `service` the function name. A function logs to
 * `/aws/lambda/<name>` unless its LoggingConfig names a custom group; a Lambda@Edge replica logs in
 * the region where it ran, under `/aws/lambda/us-east-1.<name>`. A custom group shared by several
 * functions is read once, labelled with the first of them.
 */
export function lambdaLogTargets(inventory: LambdaInventory, options: LambdaLogOptions): LogGroupTarget[] {
  return lambdaLogGroups(inventory, options).map((group) => group.target);
}

/** lambdaLogTargets, each with the function name and AWS tags the instance's filters judge. */
export function lambdaLogGroups(inventory: LambdaInventory, options: LambdaLogOptions): LambdaLogGroup[] {
  const targets = new Map<string, LambdaLogGroup>();
  const add = (logGroupName: string, functionName: string, arn: string, metrics?: LogMetricsDerivation) => {
    if (targets.has(logGroupName)) return;
    const awsTags = options.awsTagsOf?.(functionName);
    const target: LogGroupTarget = {
      region: options.region,
      accountId: options.accountId,
      logGroupName,
      ddsource: 'lambda',
      service: options.service ?? functionName,
      host: arn,
      tags: options.tagsOf(functionName),
      attributes: { lambda: { arn } },
      attributesOf: lambdaMessageAttributes,
      ...(metrics ? { metrics } : {}),
    };
    targets.set(logGroupName, { target, resourceName: functionName, ...(awsTags ? { awsTags } : {}) });
  };
  for (const info of inventory.functions.values())
    add(info.logGroup ?? `/aws/lambda/${info.name}`, info.name, info.arn, options.metricsOf?.(info));
  if (options.region !== EDGE_MASTER_REGION)
    for (const edge of inventory.edgeReplicas.values())
      add(
        `/aws/lambda/${EDGE_MASTER_REGION}.${edge.masterName}`,
        edge.masterName,
        edge.masterArn,
        options.metricsOf?.(edge.replica, edge),
      );
  return [...targets.values()];
}

/** START / END / REPORT, and the runtime's `RequestId: <id> Error: …` (an out-of-memory exit). */
const PLATFORM_LINE = /^(?:(?:START|END|REPORT) )?RequestId: ([0-9a-f-]{36})\b/;
/** The runtimes' text format, `<time>\t<request id>\t<level>\t…`, and `<time> <request id> Task timed out …`. */
const RUNTIME_TEXT_LINE = /^\d{4}-\d\d-\d\dT[\d:.]+Z[\t ]([0-9a-f-]{36})[\t ]/;

/**
 * `lambda.request_id` from one message: the platform's START / END / REPORT lines, the runtimes' text
 * format (`<time>\t<request id>\t<level>\t…`), and JSON-format records (`requestId`, or
 * `record.requestId` in `platform.*` records).
 */
export function lambdaMessageAttributes(message: string): Record<string, unknown> | undefined {
  const requestId =
    PLATFORM_LINE.exec(message)?.[1] ?? RUNTIME_TEXT_LINE.exec(message)?.[1] ?? jsonRequestId(message);
  return requestId !== undefined ? { lambda: { request_id: requestId } } : undefined;
}

function jsonRequestId(message: string): string | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(message) as { requestId?: unknown; record?: { requestId?: unknown } };
    const id = parsed.requestId ?? parsed.record?.requestId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
