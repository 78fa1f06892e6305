import type { Container, ContainerModule } from 'inversify';
import type { Clock } from '../clock.js';
import { type CloudWatchModuleOptions } from '../cloudwatch/cloudwatch-check.js';
import { loadConfd } from '../config/confd-loader.js';
import type { ConfigProblem } from '../config/config-problem.js';
import type { DaemonSettings } from '../config/daemon-settings.js';
import type { Environment } from '../config/env-substitution.js';
import type { LoadedInstance } from '../config/loaded-instance.js';
import { secretResolverFor } from '../config/secret-resolver.js';
import { checkDefinitions, createRootContainer } from '../container.js';
import type { Logger } from '../log/logger.js';
import type { Sink } from '../sink/sink.js';
import type { LogSink } from '../logs-sink/log-sink.js';
import { StatusRegistry } from '../status/status-registry.js';
import { StatusServer } from '../status/status-server.js';
import { SelfTelemetryToken } from '../tokens.js';
import { VERSION } from '../version.js';
import { InstanceRunner } from './instance-runner.js';
import { InstanceSchedule, ScheduleGrid } from './instance-schedule.js';
import { SelfTelemetry } from './self-telemetry.js';

export interface DaemonOptions {
  readonly settings: DaemonSettings;
  readonly env: Environment;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly sink: Sink;
  /** The Agent's TCP logs listener; it connects only once an instance collects logs. */
  readonly logSink?: LogSink;
  readonly modules?: readonly ContainerModule[];
  readonly cloudWatch?: CloudWatchModuleOptions;
  /** Largest random delay before the first run of the first instance of each interval (see ScheduleGrid). */
  readonly maxStartJitterMs?: number;
  /** How often the sink's counters are sent as self-metrics. */
  readonly telemetryIntervalMs?: number;
}

interface ActiveInstance {
  readonly runner: InstanceRunner;
  readonly schedule: InstanceSchedule;
}

/**
 * The long-running process: loads conf.d, runs each instance on its schedule, serves status, reloads on
 * SIGHUP (only added, removed and changed instances are touched) and stops gracefully.
 */
export class Daemon {
  readonly status = new StatusRegistry();
  readonly container: Container;
  private readonly telemetry: SelfTelemetry;
  private readonly active = new Map<string, ActiveInstance>();
  private readonly grid: ScheduleGrid;
  /** Per conf.d file, the instances of its last version that loaded (see keepLastGood). */
  private lastGoodFiles = new Map<string, LoadedInstance[]>();
  private readonly statusServer: StatusServer;
  private telemetryTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  statusAddress: { host: string; port: number } | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.container = createRootContainer({
      clock: options.clock,
      logger: options.logger,
      status: this.status,
      stateDir: options.settings.stateDir,
      modules: options.modules,
      cloudWatch: options.cloudWatch,
    });
    this.telemetry = new SelfTelemetry(options.sink, options.settings.tags);
    this.grid = new ScheduleGrid(options.maxStartJitterMs ?? 15_000);
    this.container.bind(SelfTelemetryToken).toConstantValue(this.telemetry);
    this.statusServer = new StatusServer(() =>
      this.status.snapshot({
        version: VERSION,
        sink: { ...options.sink.stats() },
        ...(options.logSink ? { logsSink: { ...options.logSink.stats() } } : {}),
      }),
    );
  }

  async start(): Promise<void> {
    const { settings, logger } = this.options;
    await this.applyConfiguration();
    if (settings.statusAddress) {
      this.statusAddress = await this.statusServer.listen(settings.statusAddress);
      logger.info(`status on http://${this.statusAddress.host}:${this.statusAddress.port}/status`);
    }
    this.telemetryTimer = setInterval(
      () => this.telemetry.reportSink(this.options.sink.stats()),
      this.options.telemetryIntervalMs ?? 15_000,
    );
    this.telemetryTimer.unref();
    logger.info(`dogwatch ${VERSION} running ${this.active.size} instance(s) from ${settings.confdPath}`);
  }

  /** SIGHUP. Concurrent calls share one reload. */
  reload(): Promise<void> {
    this.reloading ??= this.applyConfiguration().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async applyConfiguration(): Promise<void> {
    const { settings, logger, env } = this.options;
    const { instances, problems } = await loadConfd({
      confdDir: settings.confdPath,
      definitions: checkDefinitions(this.container),
      env,
      secretResolver: secretResolverFor(settings.secretBackend),
    });
    for (const problem of problems) logger.error(`configuration: ${problem.toString()}`);
    if (this.stopping) return;

    const wanted = this.keepLastGood(instances, problems);
    this.status.setConfigProblems(problems.map((p) => p.toString()));
    for (const [id, active] of this.active) {
      if (wanted.has(id)) continue;
      this.active.delete(id);
      active.schedule.stop();
      await active.runner.drain(settings.shutdownDeadlineSeconds * 1000);
      await active.runner.dispose();
      logger.info(`instance ${id} removed`);
    }
    for (const [id, instance] of wanted) {
      if (this.active.has(id)) continue;
      this.startInstance(instance);
    }
  }

  /**
   * A file that fails to load keeps running the instances it last loaded: a typo saved by mistake
   * must not stop collection (nor start half of the file's new version beside its old one). Its
   * problems are logged and on status until it is fixed. Other files load as they are.
   */
  private keepLastGood(
    instances: readonly LoadedInstance[],
    problems: readonly ConfigProblem[],
  ): Map<string, LoadedInstance> {
    const broken = new Set(problems.map((p) => p.file));
    const wanted = new Map<string, LoadedInstance>();
    for (const instance of instances) {
      if (!broken.has(instance.source.file) || !this.lastGoodFiles.has(instance.source.file))
        wanted.set(instance.instanceId, instance);
    }
    for (const file of broken) {
      const kept = this.lastGoodFiles.get(file);
      if (!kept) continue;
      for (const instance of kept) wanted.set(instance.instanceId, instance);
      this.options.logger.warn(
        `configuration: ${file} has problems; its ${kept.length} instance(s) keep the last configuration that loaded until it is fixed`,
      );
    }
    const byFile = new Map<string, LoadedInstance[]>();
    for (const instance of wanted.values()) {
      const list = byFile.get(instance.source.file) ?? [];
      list.push(instance);
      byFile.set(instance.source.file, list);
    }
    this.lastGoodFiles = byFile;
    return wanted;
  }

  private startInstance(instance: LoadedInstance): void {
    const { settings, logger, sink, logSink } = this.options;
    let runner: InstanceRunner;
    try {
      runner = new InstanceRunner({
        instance,
        root: this.container,
        sink,
        logSink,
        status: this.status,
        logger,
        globalTags: settings.tags,
        runTimeoutMs: settings.runTimeoutSeconds * 1000,
        telemetry: this.telemetry,
      });
    } catch (error) {
      logger.error(
        `instance ${instance.instanceId} (${instance.source.file}:${instance.source.line}) cannot start: ` +
          `${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const schedule = new InstanceSchedule(runner, { grid: this.grid });
    this.active.set(instance.instanceId, { runner, schedule });
    schedule.start();
    logger.info(
      `instance ${instance.instanceId} scheduled (${instance.source.file}:${instance.source.line})`,
    );
  }

  instanceIds(): string[] {
    return [...this.active.keys()];
  }

  /** SIGTERM/SIGINT: stop scheduling, let runs finish up to the deadline, flush, close. Safe twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { settings, logger, sink } = this.options;
      this.statusServer.markStopping();
      if (this.telemetryTimer) clearInterval(this.telemetryTimer);
      for (const { schedule } of this.active.values()) schedule.stop();
      const deadline = settings.shutdownDeadlineSeconds * 1000;
      const drained = await Promise.all(
        [...this.active.values()].map(({ runner }) => runner.drain(deadline)),
      );
      const unfinished = drained.filter((done) => !done).length;
      if (unfinished > 0)
        logger.warn(
          `${unfinished} run(s) still in progress at the shutdown deadline; their windows are fetched again next start`,
        );
      await Promise.all([...this.active.values()].map(({ runner }) => runner.dispose()));
      this.active.clear();
      await Promise.all([sink.close(), this.options.logSink?.close()]);
      await this.statusServer.close();
      await this.container.unbindAllAsync();
      logger.info('dogwatch stopped');
    })();
    return this.stopping;
  }
}
