/** Public surface of the AWS emulator used by tests, the demo and benchmarks. */
export { AwsEmulator, type AwsEmulatorOptions } from './emulator.js';
export {
  Accounting,
  type AccountingSnapshot,
  type Outcome,
  type RequestCount,
  type RequestFilter,
} from './accounting.js';
export {
  DEFAULT_QUOTAS,
  quotaName,
  regionDown,
  type FaultKind,
  type FaultPlan,
  type FaultRule,
  type FaultTarget,
  type ResponseMutator,
} from './faults.js';
export { readStatistic, percentileOf, type Datapoint } from './datapoints.js';
export { SeededRandom } from './prng.js';
export {
  World,
  BARE_WORLD,
  SMALL_WORLD,
  DEFAULT_ACCOUNT,
  DEFAULT_ACCESS_KEY,
  dimensionsKey,
  type Api,
  type ApiStage,
  type Dimension,
  type EdgeReplica,
  type EventSourceMapping,
  type LambdaFunction,
  type PublicationDelay,
  type Series,
  type WorldOptions,
} from './world.js';
export { LIST_METRICS_PAGE, MAX_QUERIES, MAX_DATAPOINTS_PER_PAGE } from './cloudwatch.js';
export { LIST_FUNCTIONS_PAGE } from './lambda.js';
export { GET_RESOURCES_PAGE } from './tagging.js';
export { scheduledTrailEvents, type ScheduledTrailEvent } from './trail-schedule.js';
export { WorldLogs, type EmulatedLogEvent } from './log-groups.js';
export {
  invocationLines,
  lambdaInvocations,
  lambdaLoggingConfig,
  type InvocationOutcome,
  type LambdaInvocation,
  type LambdaLoggingConfig,
} from './lambda-logs.js';
export { accessLogDestination, accessLogLines, ACCESS_LOG_FORMAT } from './access-logs.js';
