import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerModule } from 'inversify';
import type { CheckDefinition } from '../core/check/check.js';
import { ScaledClock } from '../core/clock.js';
import { loadDaemonSettings } from '../core/config/daemon-settings.js';
import { checkDefinitions, type CheckModuleLoader } from '../core/container.js';
import { createLogger } from '../core/log/logger.js';
import { Daemon } from '../core/runtime/daemon.js';
import { takeOverSdkNodeWarning } from '../core/runtime/node-support.js';
import { DogStatsdSink } from '../core/sink/dogstatsd-sink.js';
import { AgentLogsSink } from '../core/logs-sink/agent-logs-sink.js';
import {
  CHECK_TAG,
  printDemoReport,
  type ReceivedEvent,
  type ReceivedLine,
  type ReceivedLog,
} from './demo-report.js';
import { DemoScreen, type ScreenStream } from './demo-screen.js';

const DEMO_REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1', 'us-west-2'];
const SERVICE_CHECK_STATUS = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'];
/** How often the progress line is redrawn on a terminal, and printed elsewhere. */
const LIVE_PROGRESS_MS = 250;
const LOGGED_PROGRESS_MS = 5000;

interface DemoOptions {
  readonly seconds: number;
  readonly speed: number;
}

/** A local DogStatsD listener: what arrived, by metric and series, and the latest service checks. */
class DemoListener {
  readonly received: ReceivedLine[] = [];
  readonly events: ReceivedEvent[] = [];
  readonly serviceChecks = new Map<string, string>();
  private readonly socket: Socket = createSocket('udp4');

  async start(): Promise<number> {
    this.socket.on('message', (datagram) => {
      for (const line of datagram.toString('utf8').split('\n')) this.take(line);
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }

  private take(line: string): void {
    if (line.startsWith('_sc|')) {
      const [, name, status] = line.split('|');
      this.serviceChecks.set(`${name}`, SERVICE_CHECK_STATUS[Number(status)] ?? String(status));
      return;
    }
    const tags = /\|#([^|]*)/.exec(line)?.[1] ?? '';
    const check = tags
      .split(',')
      .find((tag) => tag.startsWith(`${CHECK_TAG}:`))
      ?.slice(CHECK_TAG.length + 1);
    // An event: `_e{<title bytes>,<text bytes>}:<title>|<text>|…`.
    const event = /^_e\{(\d+),\d+\}:/.exec(line);
    if (event) {
      const title = Buffer.from(line.slice(event[0].length), 'utf8')
        .subarray(0, Number(event[1]))
        .toString('utf8');
      this.events.push({ title, check });
      return;
    }
    const metric = line.slice(0, line.indexOf(':'));
    this.received.push({ metric, series: `${metric}{${tags}}`, line, check });
  }

  close(): void {
    this.socket.close();
  }
}

/** A local stand-in for the Agent's TCP logs listener: one JSON object per line. */
class DemoLogsListener {
  readonly received: ReceivedLog[] = [];
  private readonly server: Server = createServer((socket) => {
    let partial = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.take(line);
    });
  });

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  private take(line: string): void {
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      const group = (record.aws as { awslogs?: { logGroup?: string } } | undefined)?.awslogs?.logGroup;
      this.received.push({
        ddsource: String(record.ddsource),
        service: String(record.service),
        group: group ?? '',
        line,
      });
    } catch {
      this.received.push({ ddsource: '(not JSON)', service: '', group: '', line });
    }
  }

  close(): void {
    this.server.close();
  }
}

/**
 * A conf.d with one instance of every check the daemon knows, pointing at the emulator. The same
 * options for all (the built-in checks share the CloudWatch options), so the demo names no check: a
 * new integration is in the demo once it is bound and the emulator serves its namespace. The instance
 * tag `${CHECK_TAG}:<check>` tells the report which check sent a line.
 */
function writeDemoConfd(confd: string, endpoint: string, checks: readonly CheckDefinition[]): void {
  for (const { name, instanceSchema } of checks) {
    // Deployment events wherever a check offers them (the option's name is fixed across checks).
    const events =
      ('collect_deployment_events' in instanceSchema.shape ? '    collect_deployment_events: true\n' : '') +
      ('collect_logs' in instanceSchema.shape ? '    collect_logs: true\n' : '') +
      ('enhanced_metrics' in instanceSchema.shape ? '    enhanced_metrics: true\n' : '');
    mkdirSync(join(confd, `${name}.d`), { recursive: true });
    writeFileSync(
      join(confd, `${name}.d`, 'conf.yaml'),
      `init_config:\n\ninstances:\n  - regions: [${DEMO_REGIONS.join(', ')}]\n    endpoint_url: ${endpoint}\n` +
        `    min_collection_interval: 1\n    lookback: 600\n    tags: ["${CHECK_TAG}:${name}"]\n${events}`,
    );
  }
}

function intro(
  screen: DemoScreen,
  checks: number,
  lines: Record<string, string>,
  options: DemoOptions,
): void {
  screen.text(
    `dogwatch demo: the ${checks} built-in checks against a local AWS emulator; no AWS account and no ` +
      'Datadog Agent needed.',
    '',
    'bold',
  );
  screen.line();
  for (const [label, value] of Object.entries(lines))
    screen.text(`  ${label.padEnd(11)} ${value}`, ' '.repeat(14));
  screen.line();
  screen.text(
    `Collecting for ${options.seconds} s (${Math.round((options.seconds * options.speed) / 60)} CloudWatch minutes); Ctrl-C stops early.`,
  );
}

/** Shows progress until `seconds` have passed or Ctrl-C; resolves true when interrupted. */
function collect(
  screen: DemoScreen,
  options: DemoOptions,
  clock: ScaledClock,
  listener: DemoListener,
): Promise<boolean> {
  const started = Date.now();
  const show = (): void => {
    const elapsed = Math.min(options.seconds, Math.round((Date.now() - started) / 1000));
    const virtual = new Date(clock.now()).toISOString().slice(11, 16);
    screen.progress(
      `  ${String(elapsed).padStart(String(options.seconds).length)}/${options.seconds} s   ` +
        `CloudWatch time ${virtual}Z   ${listener.received.length.toLocaleString('en-US')} lines received`,
    );
  };
  return new Promise<boolean>((resolve) => {
    const ticker = setInterval(show, screen.live ? LIVE_PROGRESS_MS : LOGGED_PROGRESS_MS);
    const finish = (interrupted: boolean): void => {
      clearInterval(ticker);
      clearTimeout(timer);
      process.off('SIGINT', onSigint);
      show();
      screen.endProgress();
      resolve(interrupted);
    };
    const onSigint = (): void => finish(true);
    const timer = setTimeout(() => finish(false), options.seconds * 1000);
    process.on('SIGINT', onSigint);
  });
}

/** The real daemon, on the demo's conf.d and clock, sending to the local listener. */
function demoDaemon(
  workdir: string,
  confd: string,
  ports: { dogstatsd: number; logs: number },
  clock: ScaledClock,
  checks: ContainerModule,
): Daemon {
  // Demo credentials for the emulator only; never a real account's.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'demo-secret',
    AWS_REGION: 'us-east-1',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;

  const settings = loadDaemonSettings({
    flags: {
      confd,
      stateDir: join(workdir, 'state'),
      statusAddr: 'off',
      logLevel: 'warn',
      logFormat: 'text',
    },
    env: {
      DD_DOGSTATSD_URL: `udp://127.0.0.1:${ports.dogstatsd}`,
      DOGWATCH_LOGS_URL: `tcp://127.0.0.1:${ports.logs}`,
      DD_ENV: 'demo',
    },
    readFile: () => undefined,
  });
  const logger = createLogger({ level: 'error', format: 'text' });
  return new Daemon({
    settings,
    env: process.env,
    logger,
    clock,
    sink: new DogStatsdSink({ ...settings.dogstatsd, logger }),
    logSink: new AgentLogsSink(settings.logs, logger),
    modules: [checks],
    maxStartJitterMs: 200,
  });
}

/**
 * `npm start`: a self-contained tour. Starts the AWS emulator's `small` world on a virtual clock
 * running `speed`× faster than real time, writes a conf.d for every check `loadChecks` binds pointing
 * at it, runs the real daemon for `seconds`, receives its DogStatsD datagrams on a local UDP socket, and
 * explains what arrived. No AWS account, no Datadog Agent.
 */
export async function runDemo(
  options: DemoOptions,
  loadChecks: CheckModuleLoader,
  stream: ScreenStream = process.stdout,
): Promise<void> {
  // Before any AWS SDK client exists: its Node-version warning would land in the middle of the output.
  const nodeNotice = takeOverSdkNodeWarning();
  const screen = new DemoScreen(stream);
  // The runtime image ships app/ but not the emulator: there, `dogwatch demo` says so instead of failing
  // on a missing module.
  let emulatorModule: typeof import('../emulator/index.js');
  try {
    emulatorModule = await import('../emulator/index.js');
  } catch {
    throw new Error('the demo needs the AWS emulator from the source checkout (run it with `npm start`)');
  }
  const { AwsEmulator, SMALL_WORLD } = emulatorModule;
  const now = Date.now();
  const clock = new ScaledClock(now, now, options.speed);
  const emulator = new AwsEmulator({
    clock,
    world: { ...SMALL_WORLD, createdAtMs: now - 6 * 3600_000 },
    latencyMs: 5,
  });
  const endpoint = await emulator.start();
  const listener = new DemoListener();
  const port = await listener.start();
  const logsListener = new DemoLogsListener();
  const logsPort = await logsListener.start();

  const workdir = mkdtempSync(join(tmpdir(), 'dogwatch-demo-'));
  const confd = join(workdir, 'conf.d');
  const daemon = demoDaemon(workdir, confd, { dogstatsd: port, logs: logsPort }, clock, await loadChecks());
  const checks = checkDefinitions(daemon.container);
  writeDemoConfd(confd, endpoint, checks);

  intro(
    screen,
    checks.length,
    {
      emulator: `${endpoint} (small world)`,
      DogStatsD: `udp://127.0.0.1:${port} (a local listener)`,
      logs: `tcp://127.0.0.1:${logsPort} (a local listener, as the Agent's tcp logs source)`,
      clock: `${options.speed}× real time: 1 s here = ${options.speed} s of CloudWatch time`,
      'conf.d': confd,
    },
    options,
  );
  await daemon.start();
  const interrupted = await collect(screen, options, clock, listener);
  const status = daemon.status.snapshot({ version: '', sink: {} });
  await daemon.stop();
  await new Promise((resolve) => setTimeout(resolve, 200));
  listener.close();
  logsListener.close();
  const accounting = emulator.accounting.snapshot();
  await emulator.stop();
  rmSync(workdir, { recursive: true, force: true });

  printDemoReport(screen, {
    checks: checks.map((c) => c.name),
    received: listener.received,
    events: listener.events,
    logs: logsListener.received,
    serviceChecks: listener.serviceChecks,
    warnings: status.instances.flatMap((i) => i.warnings.map((w) => `${i.checkName}: ${w}`)),
    metricsRequested: accounting.metricsRequested,
    getMetricDataCalls: accounting.requests
      .filter((r) => r.operation.endsWith('GetMetricData'))
      .reduce((n, r) => n + r.count, 0),
    virtualMinutes: (clock.now() - now) / 60_000,
    interrupted,
  });
  if (nodeNotice !== undefined) {
    screen.line();
    screen.text(`Note: ${nodeNotice}.`, '  ', 'dim');
  }
}
