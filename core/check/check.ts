import type { Newable } from 'inversify';
import type { z } from 'zod';
import type { AssetDraft, AssetOptions } from '../assets/asset.js';
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
   */
  onSettled(callback: (error?: Error) => void): void;
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
}

export interface CheckRunContext {
  readonly submit: CheckSubmitter;
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
