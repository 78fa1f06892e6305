import type { CheckDefinition } from '../check/check.js';
import type { ReservedInstanceOptions } from './reserved-keys.js';

/** One validated instance from conf.d, ready for the scheduler. */
export interface LoadedInstance {
  readonly checkName: string;
  /** `<check>:<hash>` or `<check>:<name>:<hash>`; see instance-id.ts. */
  readonly instanceId: string;
  readonly name?: string;
  /** The file and the 1-based line where the instance starts. */
  readonly source: { readonly file: string; readonly line: number };
  /** The file's init_config, validated by the check's initConfigSchema (defaults applied). */
  readonly initConfig: Readonly<Record<string, unknown>>;
  /** The instance, validated by the check's instanceSchema plus the reserved keys (defaults applied). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Typed view of the reserved keys of `config`, with init_config's `service` when it sets none. */
  readonly reserved: ReservedInstanceOptions;
  /**
   * Key paths of values that came from the secret backend, rooted at this object:
   * `config.role_arn`, `initConfig.credentials.token`. Printing code MUST mask them (maskSecrets does).
   */
  readonly secretPaths: readonly string[];
  /** Agent keys this instance sets that mean nothing to dogwatch (`no_index`, `init_config.loader`). */
  readonly ignoredKeys?: readonly string[];
  readonly definition: CheckDefinition;
}

/** How an instance is scheduled, for messages: `every 60s`, or `cron "<expression>"`. */
export function describeSchedule(instance: LoadedInstance): string {
  return instance.reserved.schedule
    ? `cron "${instance.reserved.schedule}"`
    : `every ${instance.reserved.min_collection_interval}s`;
}
