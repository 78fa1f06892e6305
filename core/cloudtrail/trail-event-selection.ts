import type { TrailRecord } from './trail-record.js';

/** What a check makes of one CloudTrail event it cares about. */
export interface TrailEventDescription {
  /** One line a person understands at a glance: "Lambda UpdateFunctionCode: orders-handler (us-east-1)". */
  readonly title: string;
  /** Groups the events of one resource (Datadog's aggregation key), e.g. `lambda:<account>:<region>:<name>`. */
  readonly aggregationKey: string;
  /**
   * Tags that join the event to the resource's metrics: `functionname:…`, `resource:…`, `apiid:…`,
   * `apiname:…`, `edge_master_name:…`; raw `key:value` pairs (the submitter normalises every tag).
   */
  readonly tags: readonly string[];
}

/** What a selection may join an event with, beside the event itself. */
export interface TrailDescribeContext<R> {
  readonly accountId: string;
  /**
   * The instance's inventory per region as its metrics loaded it (functions, APIs), by region; a region
   * whose inventory is not loaded (denied, failed, not yet) is absent, and its events go without the
   * tags it would have given.
   */
  readonly inventories: ReadonlyMap<string, R>;
}

/**
 * Which CloudTrail management events a check turns into Datadog events, and how: the events source reads
 * LookupEvents filtered by `eventSource` and knows nothing of the service beyond this. Declared by the
 * check (checks/amazon_lambda/lambda-deployment-events.ts), enabled per instance by `enabled`.
 */
export interface TrailEventSelection<R = unknown> {
  /** CloudTrail's event source, the LookupEvents filter: `lambda.amazonaws.com`. */
  readonly eventSource: string;
  /** Operations without API-version suffix (`UpdateFunctionCode`); other events of the source are skipped. */
  readonly operations: ReadonlySet<string>;
  /** The events' source type (DogStatsD `s:`), e.g. `amazon_lambda`. */
  readonly sourceType: string;
  /** Whether an instance collects these events (its opt-in option). */
  enabled(config: Readonly<Record<string, unknown>>): boolean;
  /** The event's title, key and tags; undefined if it names no resource of the check (skipped). */
  describe(record: TrailRecord, context: TrailDescribeContext<R>): TrailEventDescription | undefined;
}
