import type { ContainerModule } from 'inversify';
import type { Clock } from '../clock.js';
import type { CloudWatchModuleOptions } from '../cloudwatch/cloudwatch-check.js';
import { loadConfd } from '../config/confd-loader.js';
import type { ConfigProblem } from '../config/config-problem.js';
import type { DaemonSettings } from '../config/daemon-settings.js';
import type { Environment } from '../config/env-substitution.js';
import { secretResolverFor } from '../config/secret-resolver.js';
import { checkDefinitions, createRootContainer } from '../container.js';
import type { Logger } from '../log/logger.js';
import type { Sink } from '../sink/sink.js';
import type { LogSink } from '../logs-sink/log-sink.js';
import { StatusRegistry, type InstanceStatus } from '../status/status-registry.js';
import { SelfTelemetryToken } from '../tokens.js';
import { InstanceRunner, type RunOutcome } from './instance-runner.js';
import { SelfTelemetry } from './self-telemetry.js';

export interface CheckOnceOptions {
  readonly settings: DaemonSettings;
  readonly env: Environment;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly checkName: string;
  /** 0-based index among the check's instances; all instances when undefined. */
  readonly instanceIndex?: number;
  readonly sink: Sink;
  /** Where the log records of instances that collect logs go (printed by `dogwatch check`). */
  readonly logSink?: LogSink;
  /** false = `dogwatch check` without --emit: nothing persisted. */
  readonly persist: boolean;
  readonly modules?: readonly ContainerModule[];
  readonly cloudWatch?: CloudWatchModuleOptions;
}

export interface CheckOnceResult {
  readonly problems: readonly ConfigProblem[];
  readonly runs: readonly { instanceId: string; outcome: RunOutcome; status: InstanceStatus }[];
  /** Set when nothing could run (unknown check, no instance); a message for the user. */
  readonly error?: string;
}

/** `dogwatch check <name>`: the daemon's exact run path, once, into the given sink. */
export async function runCheckOnce(options: CheckOnceOptions): Promise<CheckOnceResult> {
  const status = new StatusRegistry();
  const container = createRootContainer({
    clock: options.clock,
    logger: options.logger,
    status,
    stateDir: options.settings.stateDir,
    modules: options.modules,
    cloudWatch: options.cloudWatch,
  });
  container.bind(SelfTelemetryToken).toConstantValue(new SelfTelemetry(options.sink, options.settings.tags));
  const definitions = checkDefinitions(container);
  try {
    if (!definitions.some((d) => d.name === options.checkName)) {
      return {
        problems: [],
        runs: [],
        error: `unknown check "${options.checkName}"; available: ${definitions.map((d) => d.name).join(', ')}`,
      };
    }
    const { instances, problems } = await loadConfd({
      confdDir: options.settings.confdPath,
      definitions,
      env: options.env,
      secretResolver: secretResolverFor(options.settings.secretBackend),
    });
    const mine = instances.filter((i) => i.checkName === options.checkName);
    const chosen =
      options.instanceIndex === undefined
        ? mine
        : mine.slice(options.instanceIndex, options.instanceIndex + 1);
    if (chosen.length === 0) {
      const where = `${options.settings.confdPath}/${options.checkName}.d/`;
      return {
        problems,
        runs: [],
        error:
          options.instanceIndex === undefined
            ? `no valid instance of ${options.checkName} in ${where}`
            : `instance ${options.instanceIndex} of ${options.checkName} does not exist (${mine.length} valid instance(s) in ${where})`,
      };
    }
    const runs: { instanceId: string; outcome: RunOutcome; status: InstanceStatus }[] = [];
    for (const instance of chosen) {
      const runner = new InstanceRunner({
        instance,
        root: container,
        sink: options.sink,
        logSink: options.logSink,
        status,
        logger: options.logger,
        globalTags: options.settings.tags,
        runTimeoutMs: options.settings.runTimeoutSeconds * 1000,
        telemetry: options.persist ? container.get<SelfTelemetry>(SelfTelemetryToken) : undefined,
      });
      const outcome = await runner.run({ dryRun: !options.persist });
      runs.push({
        instanceId: instance.instanceId,
        outcome,
        status: { ...status.get(instance.instanceId)! },
      });
      await runner.dispose();
    }
    return { problems, runs };
  } finally {
    await Promise.all([options.sink.flush(), options.logSink?.flush()]);
    await container.unbindAllAsync();
  }
}
