export type {
  FilteredLogEvent,
  FilterLogEventsPort,
  FilterLogEventsRequest,
  FilterLogEventsResponse,
} from './filter-log-events.js';
export {
  collectLogGroup,
  type LogCollectionContext,
  type LogGroupRun,
  LOGS_LATE_HORIZON_MS,
} from './log-group-collector.js';
export { type LogGroupTarget, logRecordOf } from './log-group-target.js';
export {
  type LogMeasurement,
  type LogMetricOutput,
  type LogMetricsDerivation,
  MinuteAggregates,
  type MinuteSample,
} from './log-minute-metrics.js';
export { readLogWindow, type LogWindowOptions, type LogWindowRead } from './log-window-reader.js';
export { cloudWatchLogsClient, filterLogEventsPort, filterLogEventsQuota } from './cloudwatch-logs-client.js';
export {
  IDLE_GROUP_MAX_INTERVAL_MS,
  type LogGroupDiscovery,
  LogGroupSource,
  type LogSourceConfig,
} from './log-group-source.js';
export {
  LOG_PROCESSING_RULE_TYPES,
  type LogProcessingRuleConfig,
  LogProcessingRules,
  MULTI_LINE_AGGREGATION_MS,
  type ProcessedPage,
} from './log-processing-rules.js';
export { logProcessingRulesOption } from './log-processing-rules-option.js';
export { compileRulePattern, expandPlaceholder } from './log-rule-pattern.js';
