import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import type { CheckDefinition } from '../check/check.js';
import { MAX_TIMER_SECONDS } from './timer-limit.js';

/** The Agent's reserved instance keys, as every LoadedInstance carries them after validation. */
export interface ReservedInstanceOptions {
  /** Seconds between runs; ignored when `schedule` is set. */
  readonly min_collection_interval: number;
  /** A cron expression (5 fields, or 6 with seconds) that replaces the interval. */
  readonly schedule?: string;
  readonly tags: readonly string[];
  readonly service?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly empty_default_hostname: boolean;
}

/**
 * Keys the Datadog Agent reserves in every instance (its CommonInstanceConfig, plus `loader`, which picks
 * the check loader) and in init_config (CommonGlobalConfig's `service`, plus `loader`), with `schedule`,
 * dogwatch's own. Those that mean nothing to dogwatch are accepted, so an Agent conf.yaml loads as is,
 * and ignored with a debug line saying why (AGENT_KEYS_IGNORED).
 */
export const RESERVED_INSTANCE_KEYS = [
  'min_collection_interval',
  'schedule',
  'tags',
  'service',
  'namespace',
  'name',
  'empty_default_hostname',
  'no_index',
  'loader',
] as const;

export const RESERVED_INIT_CONFIG_KEYS = ['service', 'loader'] as const;

/** Agent keys dogwatch accepts and ignores, and why (the debug line when an instance starts). */
export const AGENT_KEYS_IGNORED: Readonly<Record<string, string>> = {
  no_index: 'the Agent sends such metrics as not to be indexed; DogStatsD has no way to ask for that',
  loader: 'the Agent picks a check loader (core, python, …) with it; dogwatch has only one',
};

const ignoredKey = <T extends z.ZodType>(key: string, type: T) =>
  type
    .optional()
    .describe(`Accepted for Datadog Agent compatibility and ignored: ${AGENT_KEYS_IGNORED[key]}.`);

const cronExpression = z.string().superRefine((expression, context) => {
  const result = validateDetailed(expression);
  if (result.valid) return;
  const reason = result.errors.map((error) => error.message).join('; ');
  context.addIssue({
    code: 'custom',
    message: `expected a cron expression (5 fields, or 6 with seconds, e.g. "*/5 * * * *"), found ${JSON.stringify(expression)} (${reason})`,
  });
});

/** The reserved keys' schema for one check: the interval default is the check's own. */
export function reservedInstanceShape(definition: Pick<CheckDefinition, 'defaultMinCollectionInterval'>) {
  return {
    min_collection_interval: z
      .number()
      .min(1)
      // Node timers hold at most 2^31-1 ms; a longer delay would fire at once, every millisecond.
      .max(MAX_TIMER_SECONDS)
      .default(definition.defaultMinCollectionInterval)
      .describe('Seconds between two runs of this instance. Do not set together with `schedule`.'),
    schedule: cronExpression.optional().meta({
      description:
        'A cron expression (5 fields, or 6 with seconds) for when this instance runs, instead of `min_collection_interval`.',
      examples: ['*/5 * * * *'],
    }),
    tags: z
      .array(z.string())
      .default([])
      .meta({
        description: 'Tags added to every metric, event and service check of this instance (`key:value`).',
        examples: [['team:serverless', 'tier:1']],
      }),
    service: z
      .string()
      .optional()
      .describe('Adds the tag `service:<SERVICE>` to everything this instance sends.'),
    namespace: z
      .string()
      .optional()
      .describe(
        'A prefix for every metric name of this instance, to keep them apart from another collector.',
      ),
    name: z
      .string()
      .min(1)
      .optional()
      .describe('A name for this instance, unique within the check; it becomes part of the instance ID.'),
    empty_default_hostname: z
      .boolean()
      .default(true)
      .describe(
        'Send metrics with an empty host (AWS resources are not this host). Set false to tag this host.',
      ),
    no_index: ignoredKey('no_index', z.boolean()),
    loader: ignoredKey('loader', z.string()),
  };
}

/** The Agent's reserved init_config keys: `service` applies to every instance of the file. */
export function reservedInitConfigShape() {
  return {
    service: z
      .string()
      .optional()
      .describe(
        'Adds the tag `service:<SERVICE>` to everything every instance of this file sends, unless the instance sets its own `service`.',
      ),
    loader: ignoredKey('loader', z.string()),
  };
}

const reservedView = z.object(reservedInstanceShape({ defaultMinCollectionInterval: 1 }));

/** The typed view of the reserved keys of an already validated instance config. */
export function reservedOptionsOf(config: Readonly<Record<string, unknown>>): ReservedInstanceOptions {
  return reservedView.parse(config);
}

/**
 * The full instance schema of a check: its own options plus the reserved keys, unknown keys rejected.
 * Throws when a check declares a reserved key itself (a programming error, caught by its tests).
 */
export function buildInstanceSchema(definition: CheckDefinition): z.ZodObject {
  const own = Object.keys(definition.instanceSchema.shape);
  const clash = own.filter((key) => (RESERVED_INSTANCE_KEYS as readonly string[]).includes(key));
  if (clash.length > 0) {
    throw new Error(
      `check ${definition.name} declares reserved instance key(s) ${clash.join(', ')} in its instanceSchema`,
    );
  }
  return definition.instanceSchema.safeExtend(reservedInstanceShape(definition)).strict();
}

export function buildInitConfigSchema(definition: CheckDefinition): z.ZodObject {
  const own = Object.keys(definition.initConfigSchema.shape);
  const clash = own.filter((key) => (RESERVED_INIT_CONFIG_KEYS as readonly string[]).includes(key));
  if (clash.length > 0) {
    throw new Error(
      `check ${definition.name} declares reserved init_config key(s) ${clash.join(', ')} in its initConfigSchema`,
    );
  }
  return definition.initConfigSchema.safeExtend(reservedInitConfigShape()).strict();
}

/**
 * The reserved options an instance runs with: its own, with init_config's `service` when it sets none
 * (as the Agent does).
 */
export function effectiveReservedOptions(
  config: Readonly<Record<string, unknown>>,
  initConfig: Readonly<Record<string, unknown>>,
): ReservedInstanceOptions {
  const reserved = reservedOptionsOf(config);
  const initService = typeof initConfig.service === 'string' ? initConfig.service : undefined;
  return reserved.service === undefined && initService !== undefined
    ? { ...reserved, service: initService }
    : reserved;
}

/** Key paths (`loader`, `init_config.loader`) of Agent keys that were set and are ignored here. */
export function ignoredAgentKeys(
  config: Readonly<Record<string, unknown>>,
  initConfig: Readonly<Record<string, unknown>>,
): string[] {
  const set = (value: unknown): boolean => value !== undefined && value !== null;
  return [
    ...Object.keys(AGENT_KEYS_IGNORED).filter((key) => set(config[key])),
    ...Object.keys(AGENT_KEYS_IGNORED)
      .filter((key) => (RESERVED_INIT_CONFIG_KEYS as readonly string[]).includes(key) && set(initConfig[key]))
      .map((key) => `init_config.${key}`),
  ];
}
