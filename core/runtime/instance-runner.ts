import { setMaxListeners } from 'node:events';
import { Container } from 'inversify';
import {
  type Check,
  InitConfigToken,
  InstanceConfigToken,
  InstanceInfoToken,
  type InstanceInfo,
  type SourceProgress,
} from '../check/check.js';
import { redactString, type Logger } from '../log/logger.js';
import { ServiceCheckStatus } from '../sink/samples.js';
import type { Sink } from '../sink/sink.js';
import type { LogSink } from '../logs-sink/log-sink.js';
import type { InstanceStatus, StatusRegistry } from '../status/status-registry.js';
import { LoggerToken } from '../tokens.js';
import { InstanceSubmitter } from './instance-submitter.js';
import type { LoadedInstance } from '../config/loaded-instance.js';
import { AGENT_KEYS_IGNORED } from '../config/reserved-keys.js';
import { describeSchedule } from '../config/loaded-instance.js';
import type { RunOutcome } from './run-outcome.js';
import type { SelfTelemetry } from './self-telemetry.js';

const CheckToken = Symbol.for('dogwatch.Check');

export type { RunOutcome } from './run-outcome.js';

export interface InstanceRunnerOptions {
  readonly instance: LoadedInstance;
  readonly root: Container;
  readonly sink: Sink;
  /** Where log records go (the Agent's TCP logs listener); none: a source's log records fail. */
  readonly logSink?: LogSink;
  readonly status: StatusRegistry;
  readonly logger: Logger;
  readonly globalTags: readonly string[];
  readonly runTimeoutMs: number;
  readonly telemetry?: SelfTelemetry;
}

/**
 * Runs one configured instance: owns its child container and check object, enforces the run timeout,
 * reports `<check>.can_connect`, and records status. A run never throws to its caller.
 *
 * Contract: at most one run of an instance is in flight at any time. A run that times out is reported
 * at once, but the instance stays busy until the check's promise settles, so the next tick is skipped
 * rather than overlapping the stuck run.
 */
export class InstanceRunner {
  private readonly child: Container;
  private readonly check: Check;
  private readonly submitter: InstanceSubmitter;
  private readonly statusEntry: InstanceStatus;
  private inFlight: Promise<unknown> | undefined;
  private disposed = false;
  readonly logger: Logger;

  constructor(private readonly options: InstanceRunnerOptions) {
    const { instance } = options;
    this.logger = options.logger.child({ check: instance.checkName, instance: instance.instanceId });
    this.child = new Container({ parent: options.root, defaultScope: 'Singleton' });
    const info: InstanceInfo = {
      checkName: instance.checkName,
      instanceId: instance.instanceId,
      instanceName: instance.name,
      source: instance.source,
    };
    this.child.bind(InstanceConfigToken).toConstantValue(instance.config);
    this.child.bind(InitConfigToken).toConstantValue(instance.initConfig ?? {});
    this.child.bind(InstanceInfoToken).toConstantValue(info);
    this.child.bind(LoggerToken).toConstantValue(this.logger);
    this.child.bind(CheckToken).to(instance.definition.checkClass);
    this.check = this.child.get<Check>(CheckToken);

    for (const key of instance.ignoredKeys ?? []) {
      const reason = AGENT_KEYS_IGNORED[key.replace(/^init_config\./, '')] ?? 'it means nothing here';
      this.logger.debug(`${key}: ignored (${reason})`);
    }
    const { reserved } = instance;
    const tags = [...reserved.tags, ...options.globalTags];
    if (reserved.service) tags.push(`service:${reserved.service}`);
    this.submitter = new InstanceSubmitter(
      options.sink,
      {
        namespace: reserved.namespace,
        tags,
        emptyHostname: reserved.empty_default_hostname,
        ...(reserved.service ? { service: reserved.service } : {}),
        logger: this.logger,
      },
      options.logSink,
    );
    this.statusEntry = options.status.register({
      checkName: instance.checkName,
      instanceId: instance.instanceId,
      source: `${instance.source.file}:${instance.source.line}`,
      schedule: describeSchedule(instance),
    });
  }

  get instance(): LoadedInstance {
    return this.options.instance;
  }

  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** Where the check's sources beside the metrics report to this instance's status (not in dry runs). */
  private readonly progress: SourceProgress = {
    report: (source, figures) =>
      this.options.status.reportSource(this.options.instance.instanceId, source, figures),
  };

  /** Records a tick that found the previous run still going. */
  recordSkip(): void {
    this.statusEntry.skippedRuns++;
    this.logger.warn(
      `run skipped: the previous run is still in progress (${describeSchedule(this.options.instance)}); ` +
        'consider a longer min_collection_interval',
    );
    this.options.telemetry?.skippedRun(this.options.instance);
  }

  /**
   * One run. `dryRun` (dogwatch check) sends to `sink` instead of the daemon's sink and tells the check
   * not to persist progress. Resolves when the run ends or times out; never rejects.
   */
  async run(runOptions: { dryRun?: boolean; sink?: Sink; logSink?: LogSink } = {}): Promise<RunOutcome> {
    if (this.inFlight) {
      this.recordSkip();
      return { ok: false, timedOut: false, durationMs: 0, error: 'skipped: previous run in progress' };
    }
    if (this.disposed) return { ok: false, timedOut: false, durationMs: 0, error: 'instance removed' };
    const { instance } = this.options;
    const sink = runOptions.sink ?? this.options.sink;
    const status = this.statusEntry;
    const started = performance.now();
    const abort = new AbortController();
    // Every in-flight AWS call of the run listens on this signal: up to 4 batches per region at once,
    // more than Node's default of 10 with a few regions. The signal lives for one run only.
    setMaxListeners(1000, abort.signal);
    const logSink = runOptions.logSink ?? this.options.logSink;
    this.submitter.beginRun(sink, logSink);
    status.running = true;

    const dryRun = runOptions.dryRun ?? false;
    const runPromise = this.check.run({
      submit: this.submitter,
      signal: abort.signal,
      dryRun,
      ...(dryRun ? {} : { progress: this.progress }),
    });
    const settled = runPromise.then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    this.inFlight = settled.finally(() => {
      this.inFlight = undefined;
      status.running = false;
    });

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.runTimeoutMs);
    });
    const result = await Promise.race([settled, timeout]);
    clearTimeout(timer);
    const durationMs = performance.now() - started;

    let outcome: RunOutcome;
    if (result === 'timeout') {
      abort.abort(new Error('run timed out'));
      const message = `run timed out after ${(this.options.runTimeoutMs / 1000).toFixed(1)}s`;
      status.timeouts++;
      outcome = { ok: false, timedOut: true, durationMs, error: message };
    } else if (!result.ok) {
      // The reason travels far (can_connect message, status, `check` output): never with a secret in it.
      const message = redactString(
        result.error instanceof Error ? result.error.message : String(result.error),
      );
      outcome = { ok: false, timedOut: false, durationMs, error: message };
    } else {
      outcome = { ok: true, timedOut: false, durationMs };
    }

    this.submitter.serviceCheck(
      `${instance.checkName}.can_connect`,
      outcome.ok ? ServiceCheckStatus.OK : ServiceCheckStatus.CRITICAL,
      // Tagged with the instance, as the self-metrics are: two instances of a check stay apart.
      { tags: [`instance:${instance.instanceId}`], ...(outcome.ok ? {} : { message: outcome.error }) },
    );
    this.record(outcome, runOptions.dryRun ?? false);
    if (!runOptions.dryRun) this.options.telemetry?.run(instance, outcome, this.submitter.counts);
    try {
      await Promise.all([sink.flush(), logSink?.flush()]);
    } catch (error) {
      this.logger.error(`sink flush failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return outcome;
  }

  /**
   * Status counters, and one log line per run as the Agent's "Done running check" (INFO; DEBUG for
   * `dogwatch check`, which prints its own summary) or ERROR with the reason.
   */
  private record(outcome: RunOutcome, dryRun: boolean): void {
    const status = this.statusEntry;
    const now = new Date().toISOString();
    const counts = this.submitter.counts;
    status.totalRuns++;
    status.lastExecution = now;
    status.lastExecutionMs = Math.round(outcome.durationMs);
    status.averageExecutionMs =
      (status.averageExecutionMs * (status.totalRuns - 1) + outcome.durationMs) / status.totalRuns;
    status.metricSamples += counts.metricSamples;
    status.lastRunMetricSamples = counts.metricSamples;
    status.events += counts.events;
    status.serviceChecks += counts.serviceChecks;
    status.warnings = [...this.submitter.warnings];
    const figures =
      `${Math.round(outcome.durationMs)} ms: ${counts.metricSamples} metric samples, ` +
      `${counts.events} events, ${counts.serviceChecks} service checks` +
      (counts.logs > 0 ? `, ${counts.logs} log lines` : '');
    if (outcome.ok) {
      status.lastSuccess = now;
      this.logger.log(dryRun ? 'debug' : 'info', `Done running check in ${figures}`);
    } else {
      status.errors++;
      status.lastError = { time: now, message: outcome.error ?? 'unknown error' };
      this.logger.error(`run failed after ${figures}: ${outcome.error ?? 'unknown error'}`);
    }
  }

  /** Waits for an in-flight run to settle, at most `deadlineMs`. Resolves true if it settled. */
  async drain(deadlineMs: number): Promise<boolean> {
    const inFlight = this.inFlight;
    if (!inFlight) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      inFlight.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    return done;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await this.check.dispose?.();
    } catch (error) {
      this.logger.warn(`dispose failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.options.status.unregister(this.options.instance.instanceId);
  }
}
