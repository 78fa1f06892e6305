import 'reflect-metadata';
import type { Container } from 'inversify';
import { builtinChecksModule } from '../../checks/index.js';
import type { Clock } from '../../core/clock.js';
import type { CloudWatchModuleOptions } from '../../core/cloudwatch/cloudwatch-check.js';
import { loadConfd } from '../../core/config/confd-loader.js';
import type { DaemonSettings } from '../../core/config/daemon-settings.js';
import { checkDefinitions, createRootContainer } from '../../core/container.js';
import { createSilentLogger } from '../../core/log/logger.js';
import { InstanceRunner, type RunOutcome } from '../../core/runtime/instance-runner.js';
import { SelfTelemetry } from '../../core/runtime/self-telemetry.js';
import type { Sink } from '../../core/sink/sink.js';
import type { LogSink } from '../../core/logs-sink/log-sink.js';
import { StatusRegistry } from '../../core/status/status-registry.js';
import { SelfTelemetryToken } from '../../core/tokens.js';

/** Test credentials for the emulator: never a real account's. */
export function useEmulatorCredentials(accessKeyId = 'AKIDEXAMPLE'): void {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_REGION: 'us-east-1',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

/**
 * The daemon's run path without its scheduler: conf.d → container → InstanceRunner → sink, run on demand
 * so a test controls the clock between runs. `restart()` drops every in-memory cache, as a new process
 * would, keeping only what is on disk.
 */
export class CollectionHarness {
  readonly status = new StatusRegistry();
  private container!: Container;
  runners: InstanceRunner[] = [];

  constructor(
    private readonly options: {
      settings: DaemonSettings;
      clock: Clock;
      sink: Sink;
      /** Where log records go (instances with collect_logs); none: their deliveries fail. */
      logSink?: LogSink;
      cloudWatch?: CloudWatchModuleOptions;
    },
  ) {}

  async start(): Promise<void> {
    const { settings, clock, sink } = this.options;
    this.container = createRootContainer({
      clock,
      logger: createSilentLogger(),
      status: this.status,
      stateDir: settings.stateDir,
      modules: [builtinChecksModule],
      cloudWatch: this.options.cloudWatch ?? { client: { maxAttempts: 4 } },
    });
    this.container.bind(SelfTelemetryToken).toConstantValue(new SelfTelemetry(sink, settings.tags));
    const { instances, problems } = await loadConfd({
      confdDir: settings.confdPath,
      definitions: checkDefinitions(this.container),
      env: process.env,
    });
    if (problems.length > 0) throw new Error(problems.map(String).join('\n'));
    this.runners = instances.map(
      (instance) =>
        new InstanceRunner({
          instance,
          root: this.container,
          sink,
          logSink: this.options.logSink,
          status: this.status,
          logger: createSilentLogger(),
          globalTags: settings.tags,
          runTimeoutMs: 60_000,
        }),
    );
  }

  /** One run of every instance, in order. */
  async runAll(): Promise<RunOutcome[]> {
    const outcomes: RunOutcome[] = [];
    for (const runner of this.runners) outcomes.push(await runner.run());
    return outcomes;
  }

  /** One run of every instance, all at once, as the daemon's schedules overlap them. */
  runAllConcurrently(): Promise<RunOutcome[]> {
    return Promise.all(this.runners.map((runner) => runner.run()));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The process dies (SIGKILL): nothing is shut down, nothing is saved beyond what already is. */
  abandon(): void {
    this.runners = [];
  }

  async stop(): Promise<void> {
    for (const runner of this.runners) await runner.dispose();
    this.runners = [];
    await this.container.unbindAllAsync();
  }
}
