/**
 * The CloudWatch metrics the emulated world publishes, per namespace and dimension level.
 *
 * Copied from the project's metric contract (and AWS documentation for the series AWS publishes but
 * dogwatch must ignore, such as API-only API Gateway series or account-level Lambda Invocations); the
 * emulator must not read ../shared at run time.
 */

/**
 * How the samples of one leaf-minute look.
 * - `ones`: every sample is 1 (Invocations, Count): Sum = SampleCount.
 * - `bernoulli`: samples are 0 or 1 (Errors, 4XXError): Average is the error rate.
 * - `dist`: samples spread over `value` (Duration, Latency, concurrency gauges).
 */
export type SampleShape = 'ones' | 'bernoulli' | 'dist';

export interface MetricProfile {
  readonly shape: SampleShape;
  /** `traffic` = the leaf's request count that minute (shared by its metrics); else a [lo, hi] range. */
  readonly count: 'traffic' | readonly [number, number];
  /** Probability that a leaf-minute has data at all; below 1 makes the series sparse. */
  readonly presence: number;
  /** For `bernoulli`: the fraction of samples that are 1. */
  readonly fraction?: readonly [number, number];
  /** For `dist`: the range the samples fall in. */
  readonly value?: readonly [number, number];
  readonly unit: string;
}

const traffic = (unitName = 'Count'): MetricProfile => ({
  shape: 'ones',
  count: 'traffic',
  presence: 1,
  unit: unitName,
});
const errors = (presence: number, lo = 0.01, hi = 0.2): MetricProfile => ({
  shape: 'bernoulli',
  count: 'traffic',
  presence,
  fraction: [lo, hi],
  unit: 'Count',
});
const events = (presence: number, lo: number, hi: number): MetricProfile => ({
  shape: 'ones',
  count: [lo, hi],
  presence,
  unit: 'Count',
});
const dist = (
  lo: number,
  hi: number,
  unitName: string,
  count: MetricProfile['count'] = 'traffic',
  presence = 1,
): MetricProfile => ({
  shape: 'dist',
  count,
  presence,
  value: [lo, hi],
  unit: unitName,
});

/** Optional Lambda features; a metric needing a feature exists only on functions that have it. */
export type LambdaFeature =
  'async' | 'stream' | 'provisioned' | 'url' | 'streaming' | 'codeSigning' | 'extensions';

export interface LambdaMetric {
  readonly name: string;
  readonly profile: MetricProfile;
  readonly feature?: LambdaFeature;
  /** Also published per FunctionName+Resource (alias / version). */
  readonly perResource?: boolean;
  /** Also published per FunctionName+ExecutedVersion. */
  readonly perExecutedVersion?: boolean;
  /** Published for Lambda@Edge replicas. */
  readonly edge?: boolean;
}

/** AWS/Lambda metrics with dimension FunctionName (scope `function`). */
export const LAMBDA_FUNCTION_METRICS: readonly LambdaMetric[] = [
  { name: 'Invocations', profile: traffic(), perResource: true, perExecutedVersion: true, edge: true },
  { name: 'Errors', profile: errors(0.35), perResource: true, perExecutedVersion: true, edge: true },
  { name: 'Throttles', profile: events(0.15, 1, 5), perResource: true, edge: true },
  { name: 'DeadLetterErrors', profile: events(0.05, 1, 3), feature: 'async' },
  { name: 'DestinationDeliveryFailures', profile: events(0.05, 1, 3), feature: 'async' },
  { name: 'AsyncEventsReceived', profile: events(0.9, 1, 40), feature: 'async' },
  { name: 'AsyncEventsDropped', profile: events(0.1, 1, 4), feature: 'async' },
  { name: 'AsyncEventAge', profile: dist(5, 5000, 'Milliseconds', [1, 40], 0.9), feature: 'async' },
  {
    name: 'Duration',
    profile: dist(2, 3000, 'Milliseconds'),
    perResource: true,
    perExecutedVersion: true,
    edge: true,
  },
  { name: 'PostRuntimeExtensionsDuration', profile: dist(0.5, 80, 'Milliseconds'), feature: 'extensions' },
  { name: 'IteratorAge', profile: dist(0, 60000, 'Milliseconds', [1, 20], 0.8), feature: 'stream' },
  { name: 'ConcurrentExecutions', profile: dist(1, 60, 'Count', [1, 12]), perResource: true, edge: true },
  {
    name: 'ProvisionedConcurrencyInvocations',
    profile: traffic(),
    feature: 'provisioned',
    perResource: true,
  },
  {
    name: 'ProvisionedConcurrencySpilloverInvocations',
    profile: events(0.2, 1, 10),
    feature: 'provisioned',
    perResource: true,
  },
  {
    name: 'ProvisionedConcurrencyUtilization',
    profile: dist(0.05, 1, 'None', [1, 12]),
    feature: 'provisioned',
    perResource: true,
  },
  {
    name: 'ProvisionedConcurrentExecutions',
    profile: dist(0, 20, 'Count', [1, 12]),
    feature: 'provisioned',
    perResource: true,
  },
  { name: 'RecursiveInvocationsDropped', profile: events(0.03, 1, 2) },
  { name: 'SignatureValidationErrors', profile: events(0.05, 1, 2), feature: 'codeSigning' },
  { name: 'StreamedOutboundBytes', profile: dist(100, 5e6, 'Bytes'), feature: 'streaming' },
  { name: 'StreamedOutboundThroughput', profile: dist(1000, 2e6, 'Bytes/Second'), feature: 'streaming' },
  { name: 'UrlRequestCount', profile: traffic(), feature: 'url' },
  { name: 'Url4xxCount', profile: errors(0.4), feature: 'url' },
  { name: 'Url5xxCount', profile: errors(0.15, 0.01, 0.05), feature: 'url' },
  { name: 'UrlRequestLatency', profile: dist(3, 2500, 'Milliseconds'), feature: 'url' },
];

/** AWS/Lambda metrics with dimension EventSourceMappingUUID (scope `event_source_mapping`); sparse. */
export const LAMBDA_ESM_METRICS: readonly { name: string; profile: MetricProfile }[] = [
  { name: 'PolledEventCount', profile: events(0.6, 1, 500) },
  { name: 'InvokedEventCount', profile: events(0.55, 1, 400) },
  { name: 'FilteredOutEventCount', profile: events(0.3, 1, 50) },
  { name: 'FailedInvokeEventCount', profile: events(0.1, 1, 10) },
  { name: 'DeletedEventCount', profile: events(0.4, 1, 400) },
  { name: 'DroppedEventCount', profile: events(0.05, 1, 5) },
  { name: 'OnFailureDestinationDeliveredEventCount', profile: events(0.05, 1, 5) },
];

/** AWS/Lambda series without dimensions (scope `account`), plus account totals AWS also publishes. */
export const LAMBDA_ACCOUNT_METRICS: readonly { name: string; profile: MetricProfile }[] = [
  { name: 'ConcurrentExecutions', profile: dist(1, 400, 'Count', [1, 12]) },
  { name: 'UnreservedConcurrentExecutions', profile: dist(1, 300, 'Count', [1, 12]) },
  { name: 'ClaimedAccountConcurrency', profile: dist(10, 900, 'Count', [1, 12]) },
  { name: 'Invocations', profile: traffic() },
  { name: 'Errors', profile: errors(0.8) },
  { name: 'Throttles', profile: events(0.3, 1, 20) },
  { name: 'Duration', profile: dist(2, 3000, 'Milliseconds') },
];

export interface ApiMetric {
  readonly name: string;
  readonly profile: MetricProfile;
}

/** AWS/ApiGateway metrics of REST APIs (ApiName[+Stage[+Resource+Method]]). */
export const REST_API_METRICS: readonly ApiMetric[] = [
  { name: 'Count', profile: traffic() },
  { name: '4XXError', profile: errors(1, 0.0, 0.15) },
  { name: '5XXError', profile: errors(1, 0.0, 0.03) },
  { name: 'CacheHitCount', profile: errors(1, 0.2, 0.8) },
  { name: 'CacheMissCount', profile: errors(1, 0.2, 0.8) },
  { name: 'Latency', profile: dist(5, 2000, 'Milliseconds') },
  { name: 'IntegrationLatency', profile: dist(2, 1800, 'Milliseconds') },
];

/** AWS/ApiGateway metrics of HTTP APIs (ApiId[+Stage[+Route]]). */
export const HTTP_API_METRICS: readonly ApiMetric[] = [
  { name: 'Count', profile: traffic() },
  { name: '4xx', profile: errors(1, 0.0, 0.15) },
  { name: '5xx', profile: errors(1, 0.0, 0.03) },
  { name: 'Latency', profile: dist(3, 1500, 'Milliseconds') },
  { name: 'IntegrationLatency', profile: dist(1, 1400, 'Milliseconds') },
  { name: 'DataProcessed', profile: dist(100, 50000, 'Bytes') },
];

/** AWS/ApiGateway metrics of WebSocket APIs (ApiId[+Stage[+Route]]). */
export const WEBSOCKET_API_METRICS: readonly ApiMetric[] = [
  { name: 'ConnectCount', profile: events(0.9, 1, 30) },
  { name: 'MessageCount', profile: traffic() },
  { name: 'ClientError', profile: errors(0.4, 0.01, 0.1) },
  { name: 'ExecutionError', profile: errors(0.2, 0.01, 0.05) },
  { name: 'IntegrationError', profile: errors(0.2, 0.01, 0.05) },
  { name: 'IntegrationLatency', profile: dist(1, 900, 'Milliseconds') },
];

/** AWS/Rekognition metrics per Operation; `operations` limits a metric to the operations that produce it. */
export const REKOGNITION_METRICS: readonly (ApiMetric & { operations?: readonly string[] })[] = [
  { name: 'SuccessfulRequestCount', profile: traffic() },
  { name: 'ResponseTime', profile: dist(40, 3000, 'Milliseconds') },
  {
    name: 'DetectedLabelCount',
    profile: dist(1, 40, 'Count'),
    operations: ['DetectLabels'],
  },
  {
    name: 'DetectedFaceCount',
    profile: dist(0, 12, 'Count'),
    operations: ['DetectFaces', 'IndexFaces', 'SearchFacesByImage'],
  },
  { name: 'ServerErrorCount', profile: events(0.05, 1, 3) },
  { name: 'ThrottledCount', profile: events(0.1, 1, 10) },
  { name: 'UserErrorCount', profile: events(0.2, 1, 5) },
];

/**
 * AWS/SQS metrics per QueueName. SQS publishes one sample a minute per queue for each (the Approximate*
 * gauges are read once a minute); message sizes are a distribution over the messages sent.
 */
export const SQS_METRICS: readonly ApiMetric[] = [
  { name: 'NumberOfMessagesSent', profile: events(0.95, 1, 300) },
  { name: 'NumberOfMessagesReceived', profile: events(0.95, 1, 300) },
  { name: 'NumberOfMessagesDeleted', profile: events(0.9, 1, 300) },
  { name: 'ApproximateNumberOfMessagesVisible', profile: dist(0, 5000, 'Count', [1, 1]) },
  { name: 'ApproximateAgeOfOldestMessage', profile: dist(0, 3600, 'Seconds', [1, 1]) },
  { name: 'SentMessageSize', profile: dist(200, 262144, 'Bytes', [1, 40], 0.95) },
];

export const REKOGNITION_OPERATIONS: readonly string[] = [
  'DetectLabels',
  'DetectFaces',
  'IndexFaces',
  'SearchFacesByImage',
  'DetectText',
  'CompareFaces',
  'DetectModerationLabels',
  'RecognizeCelebrities',
];
