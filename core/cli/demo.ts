import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScaledClock } from '../clock.js';
import { loadDaemonSettings } from '../config/daemon-settings.js';
import { createLogger } from '../log/logger.js';
import { Daemon } from '../runtime/daemon.js';
import { DogStatsdSink } from '../sink/dogstatsd-sink.js';

/** GetMetricData is billed per metric requested: $0.01 per 1,000 (SPEC §4). */
const USD_PER_METRIC_REQUESTED = 0.01 / 1000;
const DEMO_REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1', 'us-west-2'];

interface DemoOptions {
  readonly seconds: number;
  readonly speed: number;
}

interface ReceivedLine {
  readonly metric: string;
  readonly series: string;
  readonly line: string;
}

/**
 * `npm start`: a self-contained tour. Starts the AWS emulator's `small` world on a virtual clock
 * running `speed`× faster than real time, writes a conf.d for the three checks pointing at it, runs the
 * real daemon for `seconds`, receives its DogStatsD datagrams on a local UDP socket, and explains what
 * arrived. No AWS account, no Datadog Agent.
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  let emulatorModule: typeof import('../../test/emulator/index.js');
  try {
    emulatorModule = await import('../../test/emulator/index.js');
  } catch {
    throw new Error('the demo needs the AWS emulator from the source checkout (run it with `npm start`)');
  }
  const { AwsEmulator, SMALL_WORLD } = emulatorModule;
  const out = (text = ''): boolean => process.stdout.write(`${text}\n`);
  const now = Date.now();
  const clock = new ScaledClock(now, now, options.speed);
  const emulator = new AwsEmulator({
    clock,
    world: { ...SMALL_WORLD, createdAtMs: now - 6 * 3600_000 },
    latencyMs: 5,
  });
  const endpoint = await emulator.start();

  const received: ReceivedLine[] = [];
  const serviceChecks = new Map<string, string>();
  const listener = createSocket('udp4');
  listener.on('message', (datagram) => {
    for (const line of datagram.toString('utf8').split('\n')) {
      if (line.startsWith('_sc|')) {
        const [, name, status] = line.split('|');
        serviceChecks.set(
          `${name}`,
          ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'][Number(status)] ?? String(status),
        );
        continue;
      }
      const metric = line.slice(0, line.indexOf(':'));
      const tags = /\|#([^|]*)/.exec(line)?.[1] ?? '';
      received.push({ metric, series: `${metric}{${tags}}`, line });
    }
  });
  await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
  const port = listener.address().port;

  const workdir = mkdtempSync(join(tmpdir(), 'dogwatch-demo-'));
  const confd = join(workdir, 'conf.d');
  const instance = (extra: string): string =>
    `init_config:\n\ninstances:\n  - regions: [${DEMO_REGIONS.join(', ')}]\n    endpoint_url: ${endpoint}\n` +
    `    min_collection_interval: 1\n    lookback: 600\n${extra}`;
  for (const [check, extra] of [
    ['amazon_lambda', '    tags: ["team:serverless"]\n'],
    ['amazon_api_gateway', ''],
    ['amazon_rekognition', ''],
  ] as const) {
    mkdirSync(join(confd, `${check}.d`), { recursive: true });
    writeFileSync(join(confd, `${check}.d`, 'conf.yaml'), instance(extra));
  }

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
    env: { DD_DOGSTATSD_URL: `udp://127.0.0.1:${port}`, DD_ENV: 'demo' },
    readFile: () => undefined,
  });
  const logger = createLogger({ level: 'error', format: 'text' });
  const daemon = new Daemon({
    settings,
    env: process.env,
    logger,
    clock,
    sink: new DogStatsdSink({ ...settings.dogstatsd, logger }),
    maxStartJitterMs: 200,
  });

  out('dogwatch demo — no AWS account, no Datadog Agent needed');
  out(`  AWS emulator (small world): ${endpoint}`);
  out(`  DogStatsD listener:         udp://127.0.0.1:${port}`);
  out(
    `  virtual clock:              ${options.speed}× real time (1 real second = ${options.speed} s of CloudWatch time)`,
  );
  out(`  conf.d:                     ${confd}`);
  out(
    `  collecting for ${options.seconds} s (≈ ${Math.round((options.seconds * options.speed) / 60)} virtual minutes); Ctrl-C stops early`,
  );
  out();

  await daemon.start();
  const started = Date.now();
  let interrupted = false;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = Math.round((Date.now() - started) / 1000);
      out(
        `  t+${String(elapsed).padStart(2)}s  virtual ${new Date(clock.now()).toISOString().slice(11, 19)}Z  ${received.length} metric lines received`,
      );
      if (elapsed >= options.seconds) finish();
    }, 2000);
    const finish = (): void => {
      clearInterval(tick);
      process.off('SIGINT', onSigint);
      resolve();
    };
    const onSigint = (): void => {
      interrupted = true;
      finish();
    };
    process.on('SIGINT', onSigint);
  });
  const status = daemon.status.snapshot({ version: '', sink: {} });
  await daemon.stop();
  await new Promise((resolve) => setTimeout(resolve, 200));
  listener.close();
  const accounting = emulator.accounting.snapshot();
  await emulator.stop();
  rmSync(workdir, { recursive: true, force: true });

  out();
  out(interrupted ? 'Stopped (Ctrl-C). What arrived:' : 'What the local DogStatsD listener received:');
  const virtualMinutes = (clock.now() - now) / 60_000;
  for (const [check, prefix] of [
    ['amazon_lambda', 'aws.lambda.'],
    ['amazon_api_gateway', 'aws.apigateway.'],
    ['amazon_rekognition', 'aws.rekognition.'],
  ] as const) {
    const lines = received.filter((r) => r.metric.startsWith(prefix));
    const names = new Set(lines.map((r) => r.metric));
    const series = new Set(lines.map((r) => r.series));
    out();
    out(
      `■ ${check}: ${names.size} metric names, ${series.size} series, ${lines.length} datapoints` +
        `   (can_connect: ${serviceChecks.get(`${check}.can_connect`) ?? 'not reported'})`,
    );
    out(
      `  metrics: ${[...names].sort().slice(0, 12).join(', ')}${names.size > 12 ? `, … (+${names.size - 12})` : ''}`,
    );
    for (const sample of pickSamples(lines, 3)) out(`  ${sample}`);
  }
  const edge = received.filter((r) => r.line.includes('at_edge:true'));
  const edgeSeries = new Set(edge.map((r) => r.series));
  out();
  out(
    `■ Lambda@Edge: ${edgeSeries.size} replica series in ${new Set(edge.map((r) => /region:([^,|]+)/.exec(r.line)?.[1])).size} regions, tagged to their us-east-1 master:`,
  );
  for (const sample of pickSamples(edge, 2)) out(`  ${sample}`);
  const dotted = received.find((r) => r.line.includes('functionname:my.func'));
  if (dotted)
    out(
      `  my.func has a dot in its name but is an ordinary function: ${dotted.line.includes('at_edge') ? 'WRONGLY tagged at_edge' : 'no at_edge tag'}`,
    );

  const warnings = status.instances.flatMap((i) => i.warnings.map((w) => `${i.checkName}: ${w}`));
  if (warnings.length > 0) {
    out();
    out('■ Warnings raised on the instances (dogwatch status shows them too):');
    for (const w of [...new Set(warnings)].slice(0, 5)) out(`  - ${w}`);
  }

  const perMinute = accounting.metricsRequested / Math.max(1, virtualMinutes);
  out();
  out('■ CloudWatch cost of this run (GetMetricData is billed per metric requested, $0.01 per 1,000):');
  out(
    `  ${accounting.metricsRequested} metrics requested in ${requestCount(accounting.requests, 'GetMetricData')} GetMetricData calls ` +
      `over ${virtualMinutes.toFixed(0)} virtual minutes = $${(accounting.metricsRequested * USD_PER_METRIC_REQUESTED).toFixed(4)}`,
  );
  out(
    `  polling every 60 s: ≈ $${(perMinute * 60 * USD_PER_METRIC_REQUESTED).toFixed(3)}/hour; every 300 s: ≈ $${((perMinute * 60 * USD_PER_METRIC_REQUESTED) / 5).toFixed(3)}/hour (same points, timestamped)`,
  );
  out();
  out(
    'Next: `npm test` runs the test suite; README.md explains configuration and running next to a Datadog Agent.',
  );
  out(
    'Dashboards and recommended monitors for these metrics are in checks/*/assets/ (`dogwatch assets list`); ' +
      'install them with `DD_API_KEY=… DD_APP_KEY=… dogwatch assets install` (README: Dashboards and monitors).',
  );
}

function requestCount(requests: readonly { operation: string; count: number }[], operation: string): number {
  return requests.filter((r) => r.operation.endsWith(operation)).reduce((n, r) => n + r.count, 0);
}

/** A few lines from different metrics, for show. */
function pickSamples(lines: readonly ReceivedLine[], count: number): string[] {
  const seen = new Set<string>();
  const picked: string[] = [];
  for (const r of lines) {
    if (seen.has(r.metric)) continue;
    seen.add(r.metric);
    picked.push(r.line);
    if (picked.length === count) break;
  }
  return picked;
}
