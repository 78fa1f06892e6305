/**
 * The commands that load configuration and run checks (`run`, `check`, `configcheck`): everything the
 * daemon needs, imported only when one of them runs (see program.ts).
 */
import 'reflect-metadata';
import { stringify } from 'yaml';
import { clockFromSpec } from '../clock.js';
import { loadConfd } from '../config/confd-loader.js';
import { ConfigError } from '../config/config-problem.js';
import { loadDaemonSettings, type DaemonFlags, type DaemonSettings } from '../config/daemon-settings.js';
import { maskSecrets } from '../config/mask-secrets.js';
import { secretResolverFor } from '../config/secret-resolver.js';
import {
  checkDefinitions,
  createRootContainer,
  processCheckModules,
  type CheckModuleLoader,
} from '../container.js';
import { createLogger, type Logger } from '../log/logger.js';
import { runCheckOnce } from '../runtime/check-once.js';
import { Daemon } from '../runtime/daemon.js';
import { boundHeapGrowth, HEAP_GROWING_PERCENT, takeOverSdkNodeWarning } from '../runtime/node-support.js';
import { releaseStartupSignals } from '../runtime/startup-signals.js';
import { AgentLogsSink } from '../logs-sink/agent-logs-sink.js';
import { ConsoleLogSink } from '../logs-sink/console-log-sink.js';
import { ConsoleSink } from '../sink/console-sink.js';
import { DogStatsdSink } from '../sink/dogstatsd-sink.js';
import { FanoutSink } from '../sink/fanout-sink.js';
import { StatusRegistry } from '../status/status-registry.js';

export interface CommonOptions extends DaemonFlags {
  readonly logLevel?: string;
  readonly logFormat?: string;
}

function settingsOrExit(flags: CommonOptions): DaemonSettings {
  try {
    return loadDaemonSettings({ flags, env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`dogwatch: ${problem.toString()}\n`);
    } else {
      process.stderr.write(`dogwatch: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    process.exit(1);
  }
}

/**
 * The command's logger. It also says, once and in one line at `noticeLevel`, what the AWS SDK would
 * otherwise print as a 7-line warning in the middle of the output on Node < 22 (see node-support.ts).
 */
function loggerFor(settings: DaemonSettings, noticeLevel: 'warn' | 'debug'): Logger {
  const logger = createLogger({ level: settings.logLevel, format: settings.logFormat });
  const notice = takeOverSdkNodeWarning();
  if (notice !== undefined) logger.log(noticeLevel, notice);
  return logger;
}

function dogStatsdSink(settings: DaemonSettings, logger: Logger): DogStatsdSink {
  return new DogStatsdSink({ ...settings.dogstatsd, logger });
}

export async function runDaemon(flags: CommonOptions, loadChecks: CheckModuleLoader): Promise<void> {
  const settings = settingsOrExit(flags);
  const logger = loggerFor(settings, 'warn');
  // A long-lived process: its RSS should follow its live heap, not V8's default 4× headroom.
  if (boundHeapGrowth())
    logger.debug(`V8 heap growth bounded: --heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const daemon = new Daemon({
    settings,
    env: process.env,
    logger,
    clock: clockFromSpec(process.env.DOGWATCH_CLOCK),
    sink: dogStatsdSink(settings, logger),
    logSink: new AgentLogsSink(settings.logs, logger),
    modules: await processCheckModules(loadChecks, process.env.DOGWATCH_CHECK_MODULES),
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received: finishing runs and flushing`);
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info('SIGHUP received: reloading conf.d');
    daemon.reload().catch((error: unknown) => logger.error(`reload failed: ${String(error)}`));
  });
  // A bug in one instance must not take the daemon down; log it loudly instead.
  process.on('unhandledRejection', (reason) => logger.error(`unhandled rejection: ${String(reason)}`));
  const arrivedWhileLoading = releaseStartupSignals();
  await daemon.start();
  // What arrived while the daemon was loading is acted on once it runs, as if it arrived now.
  for (const signal of arrivedWhileLoading) process.emit(signal, signal);
}

export async function checkCommand(
  name: string,
  flags: CommonOptions & { instance?: number; json?: boolean; emit?: boolean },
  loadChecks: CheckModuleLoader,
): Promise<void> {
  const settings = settingsOrExit(flags);
  const logger = loggerFor(settings, 'debug');
  const console = new ConsoleSink({ stream: process.stdout, format: flags.json ? 'json' : 'text' });
  const sink = flags.emit ? new FanoutSink([console, dogStatsdSink(settings, logger)]) : console;
  // Printed beside the metric lines; with --emit, sent to the Agent's logs listener instead.
  const logSink = flags.emit
    ? new AgentLogsSink(settings.logs, logger)
    : new ConsoleLogSink(process.stdout, flags.json ? 'json' : 'text');
  const result = await runCheckOnce({
    settings,
    env: process.env,
    logger,
    clock: clockFromSpec(process.env.DOGWATCH_CLOCK),
    checkName: name,
    instanceIndex: flags.instance,
    sink,
    logSink,
    persist: flags.emit ?? false,
    modules: await processCheckModules(loadChecks, process.env.DOGWATCH_CHECK_MODULES),
  });
  await Promise.all([sink.close(), logSink.close()]);
  for (const problem of result.problems) process.stderr.write(`configuration: ${problem.toString()}\n`);
  if (result.error) {
    process.stderr.write(`dogwatch check: ${result.error}\n`);
    process.exitCode = 1;
    return;
  }
  for (const run of result.runs) {
    const s = run.status;
    process.stderr.write(
      `${run.instanceId}: ${run.outcome.ok ? 'OK' : `FAILED: ${run.outcome.error}`} in ${Math.round(run.outcome.durationMs)} ms, ` +
        `${s.metricSamples} metric samples, ${s.events} events, ${s.serviceChecks} service checks` +
        (s.warnings.length ? `\n  warnings:\n${s.warnings.map((w) => `    - ${w}`).join('\n')}` : '') +
        '\n',
    );
    if (!run.outcome.ok) process.exitCode = 1;
  }
}

export async function configcheckCommand(
  flags: CommonOptions & { json?: boolean },
  loadChecks: CheckModuleLoader,
): Promise<void> {
  const settings = settingsOrExit(flags);
  const logger = loggerFor(settings, 'debug');
  const container = createRootContainer({
    clock: clockFromSpec(undefined),
    logger,
    status: new StatusRegistry(),
    stateDir: settings.stateDir,
    modules: await processCheckModules(loadChecks, process.env.DOGWATCH_CHECK_MODULES),
  });
  const { instances, problems } = await loadConfd({
    confdDir: settings.confdPath,
    definitions: checkDefinitions(container),
    env: process.env,
    secretResolver: secretResolverFor(settings.secretBackend),
  });
  const masked = instances.map(maskSecrets);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ instances: masked, problems: problems.map(String) }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`=== conf.d: ${settings.confdPath}\n`);
    for (const instance of masked) {
      process.stdout.write(
        `\n--- ${instance.instanceId}  (${instance.source.file}:${instance.source.line})\n`,
      );
      process.stdout.write(stringify({ init_config: instance.initConfig, instance: instance.config }));
    }
    process.stdout.write(`\n${instances.length} valid instance(s), ${problems.length} problem(s)\n`);
    for (const problem of problems) process.stdout.write(`  ✗ ${problem.toString()}\n`);
  }
  await container.unbindAllAsync();
  if (problems.length > 0) process.exitCode = 1;
}
