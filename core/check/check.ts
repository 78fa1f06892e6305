import type { Newable } from 'inversify';
import type { z } from 'zod';
import type { AssetDraft, AssetOptions } from './asset.js';
import type { AwsApiDeclaration } from '../aws/aws-api-declaration.js';
import type { LogRecord } from '../logs-sink/log-record.js';
import type { Delivery } from '../sink/delivery.js';
import type { AlertType, ServiceCheckStatus } from '../sink/samples.js';

/**
 * The contribution point every integration binds to (one bind line in checks/index.ts):
 *   bind(CheckDefinitionToken).toConstantValue(amazonLambdaCheck)
 * The runtime only ever calls `container.getAll(CheckDefinitionToken)`: it never names a check.
 */
export const CheckDefinitionToken = Symbol.for('dogwatch.CheckDefinition');

/** Per-instance bindings, available in the instance's child container. */
export const InstanceConfigToken = Symbol.for('dogwatch.InstanceConfig');
export const InitConfigToken = Symbol.for('dogwatch.InitConfig');
export const InstanceInfoToken = Symbol.for('dogwatch.InstanceInfo');

export interface CheckDefinition<
  InstanceSchema extends z.ZodObject = z.ZodObject,
  InitSchema extends z.ZodObject = z.ZodObject,
> {
  /** The check name, as in conf.d/<name>.d/ — e.g. `amazon_lambda`. */
  readonly name: string;
  /** One line for `--help`, the example file header and status. */
  readonly description: string;
  /** Paragraphs for the example file's header: what a user looks for there and will not find. */
  readonly exampleNotes?: readonly string[];
  /**
   * The check's own instance options. The runtime adds the Agent's reserved keys
   * (min_collection_interval, schedule, tags, service, namespace, name, empty_default_hostname,
   * no_index, loader; see RESERVED_INSTANCE_KEYS)
   * and rejects unknown keys, so a check MUST NOT declare those itself.
   */
  readonly instanceSchema: InstanceSchema;
  readonly initConfigSchema: InitSchema;
  /** Seconds between runs when the instance sets neither min_collection_interval nor schedule. */
  readonly defaultMinCollectionInterval: number;
  /** Resolved from the instance's child container, so it can @inject(InstanceConfigToken) etc. */
  readonly checkClass: Newable<Check>;
  /**
   * Optional dashboards and recommended monitors for the integration (`dogwatch assets`), for the
   * metric names an instance with `options.namespace` sends. Core names, marks and installs them.
   */
  readonly assets?: (options: AssetOptions) => readonly AssetDraft[];
  /**
   * The AWS APIs the check calls beyond what core calls for every check (CloudWatch metrics, resource
   * tags, STS, Account): the clients it asks the factory for, their quotas and IAM actions. The client
   * factory builds only declared clients; the rate limiter and iam/dogwatch-policy.json derive from these.
   */
  readonly awsApis?: readonly AwsApiDeclaration[];
}

/** Identity of one configured instance, bound in its child container. */
export interface InstanceInfo {
  readonly checkName: string;
  /** `<check>:<hash>` or `<check>:<name>:<hash>`, stable across restarts (see core/config/instance-id.ts). */
  readonly instanceId: string;
  /** The instance's `name`, if it has one: part of what identifies its cursors, unlike its other options. */
  readonly instanceName?: string;
  /** The conf.d file and 1-based line of the instance, for messages. */
  readonly source: { readonly file: string; readonly line: number };
}

export interface SubmitOptions {
  readonly tags?: readonly string[];
  /**
   * How many leading `tags` identify the series: these are never trimmed. The rest describe it
   * (resource attributes, AWS tags) and are dropped, last first, when a line would not fit a datagram.
   * Default: all of them identify it.
   */
  readonly identityTags?: number;
  /** Unix seconds. */
  readonly timestamp?: number;
}

export interface EventOptions {
  readonly tags?: readonly string[];
  readonly timestamp?: number;
  readonly aggregationKey?: string;
  readonly priority?: 'normal' | 'low';
  readonly alertType?: AlertType;
  readonly sourceTypeName?: string;
}

export interface ServiceCheckOptions {
  readonly tags?: readonly string[];
  readonly message?: string;
  readonly timestamp?: number;
}

/**
 * dogwatch's own metrics about an instance (`dogwatch.<metric>`), handed to checks by the runtime:
 * a check reports on its work without knowing how the runtime sends it.
 */
export interface SelfMetrics {
  instanceMetric(
    info: InstanceInfo,
    metric: string,
    type: 'gauge' | 'count',
    value: number,
    tags?: readonly string[],
  ): void;
}

/** Samples a check can send. */
export interface SampleEmitter {
  gauge(metric: string, value: number, options?: SubmitOptions): void;
  count(metric: string, value: number, options?: SubmitOptions): void;
  event(title: string, text: string, options?: EventOptions): void;
}

/**
 * Samples delivered as a whole: a source that keeps durable progress (a cursor) sends a batch through
 * one group and commits the batch's cursor only when `settle` resolves.
 */
export interface DeliveryGroup extends SampleEmitter {
  /**
   * Called once, after the group's last sample. Resolves when every sample of the group was accepted
   * by the transport (the Agent's socket); rejects naming why if any was not, e.g. the Agent was
   * unreachable. Samples of other groups, instances or checks never affect it.
   */
  settle(): Promise<void>;
  /**
   * The same, as a callback that runs synchronously when the last sample is accounted for (no promise
   * per group): a source that commits many small groups records each without a gap after delivery.
   * With `progress`, until then the callback also hears `(undefined, deliveredSamples)`: how many
   * samples from the group's start the transport took, each time that grows and while none failed (see
   * Delivery), so a group larger than one datagram records what its first datagrams carried and a kill
   * between two of them repeats nothing. The final call has `deliveredSamples` undefined.
   */
  onSettled(callback: (error?: Error, deliveredSamples?: number) => void, progress?: boolean): void;
}

/**
 * What a check may do during a run. The runtime merges instance/global tags, applies `namespace`,
 * validates and normalises names and tags before anything reaches the sink. A check never sees a socket.
 */
export interface CheckSubmitter extends SampleEmitter {
  serviceCheck(name: string, status: ServiceCheckStatus, options?: ServiceCheckOptions): void;
  /** Shown on the instance's status until the next run; also logged. */
  warning(message: string): void;
  /** Opens a group of samples that is delivered, or not, as a whole (see DeliveryGroup). */
  openDelivery(): DeliveryGroup;
  /**
   * One log record for the Agent's logs listener (sources that read logs). The runtime adds the
   * instance's and global tags (normalised like every other tag) and hands it to the logs sink, which
   * reports on it to `delivery` as a metrics sink does on samples.
   */
  log(record: LogRecord, delivery?: Delivery): void;
  /** Resolves when the logs sink can take another batch of records (see LogSink.room). */
  logRoom(records?: number): Promise<void>;
}

/** One run's figures of a source that sends records (events, log lines) for `status`. */
export interface SourceRunFigures {
  /** Records the Agent's socket took this run. */
  readonly sent: number;
  /** Records it did not take this run (a later run sends them again). */
  readonly notDelivered: number;
  /** Seconds from the source's oldest cursor (over regions) to AWS's now; absent if no region was read. */
  readonly cursorLagSeconds?: number;
}

/** Where a source reports its progress to the instance's status (see InstanceStatus.sources). */
export interface SourceProgress {
  report(source: string, figures: SourceRunFigures): void;
}

export interface CheckRunContext {
  readonly submit: CheckSubmitter;
  /** The instance's status, for sources beside the metrics; absent in `dogwatch check` (dry runs). */
  readonly progress?: SourceProgress;
  /** Aborted when the run times out or the daemon stops; long work MUST stop soon after. */
  readonly signal: AbortSignal;
  /**
   * True for `dogwatch check` without --emit: the run prints what it would send and MUST NOT
   * persist progress (watermarks, caches on disk).
   */
  readonly dryRun: boolean;
}

export interface Check {
  run(context: CheckRunContext): Promise<void>;
  /** Release clients and timers when the instance is removed or the daemon stops. Safe to call twice. */
  dispose?(): Promise<void>;
}
