#!/usr/bin/env node
import 'reflect-metadata';
import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify } from 'yaml';
import { clockFromSpec } from '../clock.js';
import { loadConfd } from '../config/confd-loader.js';
import { ConfigError } from '../config/config-problem.js';
import { loadDaemonSettings, type DaemonFlags, type DaemonSettings } from '../config/daemon-settings.js';
import { maskSecrets } from '../config/mask-secrets.js';
import { secretResolverFor } from '../config/secret-resolver.js';
import { checkDefinitions, createRootContainer, loadCheckModules } from '../container.js';
import { createLogger, type Logger } from '../log/logger.js';
import { runCheckOnce } from '../runtime/check-once.js';
import { Daemon } from '../runtime/daemon.js';
import { ConsoleSink } from '../sink/console-sink.js';
import { DogStatsdSink } from '../sink/dogstatsd-sink.js';
import { FanoutSink } from '../sink/fanout-sink.js';
import { StatusRegistry } from '../status/status-registry.js';
import { VERSION } from '../version.js';
import { assetsCommand } from './assets-command.js';
import { printStatus } from './print-status.js';

interface CommonOptions extends DaemonFlags {
  readonly logLevel?: string;
  readonly logFormat?: string;
}

/** Options every command shares: where the configuration is and how to log. */
function withCommonOptions(command: Command): Command {
  return command
    .version(VERSION, '-V, --version')
    .option('-c, --config <path>', 'dogwatch.yaml daemon settings (env DOGWATCH_CONFIG)')
    .option('--confd <dir>', 'conf.d folder (env DOGWATCH_CONFD, default ./conf.d)')
    .option('--state-dir <dir>', 'folder for watermarks (env DOGWATCH_STATE_DIR, default ./.state)')
    .option(
      '--status-addr <host:port>',
      'status listener, or "off" (env DOGWATCH_STATUS_ADDR, default 127.0.0.1:5005)',
    )
    .addOption(
      new Option('--log-level <level>', 'env DOGWATCH_LOG_LEVEL').choices(['error', 'warn', 'info', 'debug']),
    )
    .addOption(new Option('--log-format <format>', 'env DOGWATCH_LOG_FORMAT').choices(['text', 'json']));
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

function loggerFor(settings: DaemonSettings): Logger {
  return createLogger({ level: settings.logLevel, format: settings.logFormat });
}

function dogStatsdSink(settings: DaemonSettings, logger: Logger): DogStatsdSink {
  return new DogStatsdSink({ ...settings.dogstatsd, logger });
}

const integer = (text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
};

async function runDaemon(flags: CommonOptions): Promise<void> {
  const settings = settingsOrExit(flags);
  const logger = loggerFor(settings);
  const daemon = new Daemon({
    settings,
    env: process.env,
    logger,
    clock: clockFromSpec(process.env.DOGWATCH_CLOCK),
    sink: dogStatsdSink(settings, logger),
    modules: await loadCheckModules(process.env.DOGWATCH_CHECK_MODULES),
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
  await daemon.start();
}

async function checkCommand(
  name: string,
  flags: CommonOptions & { instance?: number; json?: boolean; emit?: boolean },
): Promise<void> {
  const settings = settingsOrExit(flags);
  const logger = loggerFor(settings);
  const console = new ConsoleSink({ stream: process.stdout, format: flags.json ? 'json' : 'text' });
  const sink = flags.emit ? new FanoutSink([console, dogStatsdSink(settings, logger)]) : console;
  const result = await runCheckOnce({
    settings,
    env: process.env,
    logger,
    clock: clockFromSpec(process.env.DOGWATCH_CLOCK),
    checkName: name,
    instanceIndex: flags.instance,
    sink,
    persist: flags.emit ?? false,
    modules: await loadCheckModules(process.env.DOGWATCH_CHECK_MODULES),
  });
  await sink.close();
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

async function configcheckCommand(flags: CommonOptions & { json?: boolean }): Promise<void> {
  const settings = settingsOrExit(flags);
  const logger = loggerFor(settings);
  const container = createRootContainer({
    clock: clockFromSpec(undefined),
    logger,
    status: new StatusRegistry(),
    stateDir: settings.stateDir,
    modules: await loadCheckModules(process.env.DOGWATCH_CHECK_MODULES),
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

async function statusCommand(flags: CommonOptions & { json?: boolean }): Promise<void> {
  const settings = settingsOrExit(flags);
  if (!settings.statusAddress) {
    process.stderr.write('dogwatch status: the status listener is off (DOGWATCH_STATUS_ADDR=off)\n');
    process.exitCode = 1;
    return;
  }
  const { host, port } = settings.statusAddress;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/status`;
  let body: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    body = await response.text();
  } catch (error) {
    process.stderr.write(
      `dogwatch status: no daemon answers at ${url} (${error instanceof Error ? error.message : String(error)})\n`,
    );
    process.exitCode = 1;
    return;
  }
  if (flags.json) process.stdout.write(`${body}\n`);
  else printStatus(JSON.parse(body) as Parameters<typeof printStatus>[0], process.stdout);
}

/**
 * `dogwatch health`: the container and Kubernetes probe. Reads the same settings as the daemon, so it
 * follows DOGWATCH_STATUS_ADDR wherever it points; exit 0 healthy, 1 not.
 */
async function healthCommand(flags: CommonOptions): Promise<void> {
  const settings = settingsOrExit(flags);
  if (!settings.statusAddress) {
    process.stdout.write('the status listener is off (DOGWATCH_STATUS_ADDR=off): nothing to probe\n');
    return;
  }
  const { host, port } = settings.statusAddress;
  const probeHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const url = `http://${probeHost.includes(':') ? `[${probeHost}]` : probeHost}:${port}/health`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
    const body = await response.text();
    process.stdout.write(`${response.status} ${body.trim()}\n`);
    if (!response.ok) process.exitCode = 1;
  } catch (error) {
    process.stdout.write(
      `unhealthy: no answer from ${url} (${error instanceof Error ? error.message : String(error)})\n`,
    );
    process.exitCode = 1;
  }
}

export function buildProgram(): Command {
  const program = new Command('dogwatch')
    .description('Collects AWS CloudWatch metrics and sends them to a local Datadog Agent over DogStatsD')
    .version(VERSION, '-V, --version')
    .showHelpAfterError();

  withCommonOptions(
    program.command('run').description('run the daemon (every instance of conf.d on its schedule)'),
  ).action((flags: CommonOptions) => runDaemon(flags));

  withCommonOptions(
    program
      .command('check <name>')
      .description('run one check once and print what would be sent (nothing is persisted unless --emit)'),
  )
    .option('--instance <n>', 'only the nth instance of the check (0-based)', integer)
    .option('--json', 'one JSON object per line')
    .option('--emit', 'also send to DogStatsD and persist progress, like a daemon run')
    .action((name: string, flags: CommonOptions & { instance?: number; json?: boolean; emit?: boolean }) =>
      checkCommand(name, flags),
    );

  withCommonOptions(
    program
      .command('configcheck')
      .description('validate conf.d and print the resolved instances (secrets masked)'),
  )
    .option('--json', 'print JSON')
    .action((flags: CommonOptions & { json?: boolean }) => configcheckCommand(flags));

  withCommonOptions(program.command('status').description("print the running daemon's status"))
    .option('--json', 'print the raw JSON')
    .action((flags: CommonOptions & { json?: boolean }) => statusCommand(flags));

  withCommonOptions(
    program.command('health').description("probe the running daemon's /health (exit 0 or 1)"),
  ).action((flags: CommonOptions) => healthCommand(flags));

  program.addCommand(assetsCommand(withCommonOptions));

  program
    .command('demo')
    .version(VERSION, '-V, --version')
    .description('run the three checks against the built-in AWS emulator and a local DogStatsD listener')
    .option('--seconds <n>', 'how long to run (real seconds)', integer, 20)
    .option('--speed <n>', 'virtual seconds per real second', integer, 60)
    .action(async (flags: { seconds: number; speed: number }) => {
      const { runDemo } = await import('./demo.js');
      await runDemo(flags);
    });
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`dogwatch: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
