/**
 * The logs bench (issue 17): a real `dogwatch run` process (dist/app/main.js) with `collect_logs: true`
 * on amazon_lambda, against the emulator hosted by the bench process, sending to a TCP line counter in
 * a third process (bench/logs-listener.ts). The world has enough functions that its log groups hold
 * ≥ 1 GB of lines per simulated hour; the daemon starts with `lookback` seconds of it to read (a backlog
 * at that rate), so the figures are the source's throughput, not the world's pace. A second daemon
 * sends to a listener that stops reading: its RSS must level off (the sink's 16 MiB queue, the source
 * waiting for room: core/logs-sink/queue-admission.ts) instead of growing with the backlog.
 *
 * CPU and RSS are read from /proc (Linux): the daemon is a process of its own, so they are its own.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScaledClock } from '../core/clock.js';
import { AwsEmulator, BARE_WORLD } from '../emulator/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'app', 'main.js');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const MB = 1024 * 1024;
const SAMPLE_MS = 250;

export interface LogsBenchOptions {
  /** Lambda functions in the world (each logs ~2.8 MB per hour in the emulator's model). */
  functions: number;
  /** Seconds of logs the daemon finds waiting when it starts. */
  lookbackS: number;
  /** Seconds the daemon runs against the listener that stops reading. */
  stallSeconds: number;
  /** Bytes that listener reads before it stops. */
  stallAfterBytes: number;
}

export const DEFAULT_LOGS_OPTIONS: LogsBenchOptions = {
  functions: 450,
  lookbackS: 300,
  stallSeconds: 60,
  stallAfterBytes: 8 * MB,
};

export interface LogsResults {
  functions: number;
  lookback_s: number;
  /** The world's log lines (messages) over the lookback window, and that rate per simulated hour. */
  world_events: number;
  world_bytes: number;
  world_gb_per_simulated_hour: number;
  /** What the counting listener received (JSON lines, with the Forwarder's attributes). */
  events_received: number;
  bytes_received: number;
  wall_s: number;
  cpu_s: number;
  events_per_cpu_s: number;
  bytes_per_s: number;
  peak_rss_mb: number;
  stall: {
    seconds: number;
    listener_read_mb: number;
    rss_mb_first_half_max: number;
    rss_mb_second_half_max: number;
    peak_rss_mb: number;
    /** The daemon was still running when stopped. */
    alive: boolean;
    /** RSS grew by less than the sink's queue (16 MiB) over the second half. */
    bounded: boolean;
  };
}

/** CPU seconds (user + system) and RSS figures of a process, from /proc/<pid>/stat and status. */
export interface ProcSample {
  cpuS: number;
  rssMb: number;
  hwmMb: number;
}

/**
 * Parses /proc/<pid>/stat (utime, stime: fields 14 and 15, in clock ticks) and /proc/<pid>/status
 * (VmRSS, VmHWM in kB). The command name (field 2) may hold spaces and parentheses, so the fields are
 * counted after its last ')'.
 */
export function parseProc(stat: string, status: string, ticksPerSecond = 100): ProcSample {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime (14) is fields[11], stime (15) fields[12].
  const cpuS = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  const kb = (key: string): number =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuS, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

function sampleProc(pid: number): ProcSample | undefined {
  try {
    return parseProc(readFileSync(`/proc/${pid}/stat`, 'utf8'), readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

interface LineCounter {
  child: ChildProcess;
  port: number;
  counts(): Promise<{ lines: number; bytes: number }>;
}

async function startCounter(stallAfterBytes?: number): Promise<LineCounter> {
  const child = fork(
    join(here, 'logs-listener.js'),
    stallAfterBytes === undefined ? [] : [String(stallAfterBytes)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m: { port: number }) => resolve(m.port));
  });
  return {
    child,
    port,
    counts: () =>
      new Promise((resolve) => {
        child.once('message', (m: { lines: number; bytes: number }) => resolve(m));
        child.send('report');
      }),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function startDaemon(
  workdir: string,
  endpoint: string,
  clock: ScaledClock,
  ports: { logs: number; dogstatsd: number },
  lookbackS: number,
): ChildProcess {
  const confd = join(workdir, 'conf.d');
  mkdirSync(join(confd, 'amazon_lambda.d'), { recursive: true });
  // One metric only: the figures are the logs source's, not the CloudWatch engine's.
  writeFileSync(
    join(confd, 'amazon_lambda.d', 'conf.yaml'),
    `init_config:\n\ninstances:\n  - endpoint_url: ${endpoint}\n    regions: [${REGION}]\n    min_collection_interval: 15\n` +
      `    collect_logs: true\n    lookback: ${lookbackS}\n    metrics: {include: ["aws.lambda.invocations"]}\n`,
  );
  return spawn(process.execPath, [CLI, 'run'], {
    env: {
      ...process.env,
      DOGWATCH_CLOCK: clock.toSpec(),
      DOGWATCH_CONFD: confd,
      DOGWATCH_STATE_DIR: join(workdir, 'state'),
      DOGWATCH_STATUS_ADDR: 'off',
      DOGWATCH_LOG_LEVEL: 'error',
      DD_DOGSTATSD_URL: `udp://127.0.0.1:${ports.dogstatsd}`,
      DOGWATCH_LOGS_URL: `tcp://127.0.0.1:${ports.logs}`,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'emulator-secret',
      AWS_REGION: REGION,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // SIGKILL: a daemon whose Agent stopped reading would wait on its flush.
  child.kill('SIGKILL');
  await exited;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

export async function runLogsBench(
  options: LogsBenchOptions,
  log: (text: string) => void,
): Promise<LogsResults> {
  const t0 = Date.UTC(2025, 5, 2, 12, 0, 30);
  const clock = new ScaledClock(Date.now(), t0, 1);
  const emulator = new AwsEmulator({
    clock,
    world: { ...BARE_WORLD, functions: options.functions, createdAtMs: t0 - 6 * 3600_000 },
  });
  const endpoint = await emulator.start();
  // The one metric's datagrams are received and dropped here (a closed port would fail the runs).
  const dogstatsd = createSocket('udp4');
  await new Promise<void>((resolve) => dogstatsd.bind(0, '127.0.0.1', resolve));
  const dogstatsdPort = dogstatsd.address().port;
  const workroot = mkdtempSync(join(tmpdir(), 'dogwatch-logbench-'));
  try {
    // The world's lines in the window the daemon will read (computed now, before the clock moves on).
    // Over a window old enough that all its lines are ingested: the world's production rate.
    const now = clock.now() - 900_000;
    let worldEvents = 0;
    let worldBytes = 0;
    for (const group of emulator.logs.groupNames(ACCOUNT, REGION)) {
      const events = emulator.logs.events(ACCOUNT, REGION, group, {
        startMs: now - options.lookbackS * 1000,
        endMs: now,
        asOfMs: now,
      });
      for (const e of events ?? []) {
        worldEvents++;
        worldBytes += Buffer.byteLength(e.message);
      }
    }
    const gbPerHour = (worldBytes * (3600 / options.lookbackS)) / 1e9;
    log(
      `logs: ${options.functions} functions, ${worldEvents} events (${round(worldBytes / MB, 1)} MiB) in ${options.lookbackS} s: ${round(gbPerHour, 2)} GB per simulated hour`,
    );

    // 1. Throughput: until the counting listener has had nothing new for 3 s.
    const counter = await startCounter();
    const daemon = startDaemon(
      join(workroot, 'count'),
      endpoint,
      clock,
      { logs: counter.port, dogstatsd: dogstatsdPort },
      options.lookbackS,
    );
    const started = performance.now();
    let last = { lines: 0, bytes: 0 };
    let lastGrowth = { at: started, cpuS: 0 };
    let peak = 0;
    // Done when lines have arrived and then nothing more for 3 s (the backlog is read; what follows is
    // the world's own pace).
    while (
      (last.lines === 0 || performance.now() - lastGrowth.at < 3000) &&
      performance.now() - started < 300_000
    ) {
      await sleep(SAMPLE_MS);
      const proc = sampleProc(daemon.pid!);
      const got = await counter.counts();
      if (proc) peak = Math.max(peak, proc.hwmMb);
      if (got.lines > last.lines) lastGrowth = { at: performance.now(), cpuS: proc?.cpuS ?? lastGrowth.cpuS };
      last = got;
    }
    await stopDaemon(daemon);
    counter.child.send('exit');
    const wallS = (lastGrowth.at - started) / 1000;
    log(
      `logs: ${last.lines} lines, ${round(last.bytes / MB, 1)} MiB received in ${round(wallS, 1)} s, ${round(lastGrowth.cpuS, 1)} CPU s`,
    );

    // 2. The Agent stops reading after stallAfterBytes.
    const staller = await startCounter(options.stallAfterBytes);
    const stalled = startDaemon(
      join(workroot, 'stall'),
      endpoint,
      clock,
      { logs: staller.port, dogstatsd: dogstatsdPort },
      options.lookbackS,
    );
    const rss: number[] = [];
    let stallPeak = 0;
    const stallStart = performance.now();
    while (performance.now() - stallStart < options.stallSeconds * 1000) {
      await sleep(SAMPLE_MS);
      const proc = sampleProc(stalled.pid!);
      if (!proc) break;
      rss.push(proc.rssMb);
      if (process.env.LOGBENCH_TRACE && rss.length % 20 === 0)
        log(`stall: ${rss.length / 4} s rss ${proc.rssMb.toFixed(1)} MB`);
      stallPeak = Math.max(stallPeak, proc.hwmMb);
    }
    const alive = stalled.exitCode === null && stalled.signalCode === null;
    const read = await staller.counts();
    await stopDaemon(stalled);
    staller.child.send('exit');
    const half = Math.floor(rss.length / 2);
    const firstHalf = Math.max(...rss.slice(0, half));
    const secondHalf = Math.max(...rss.slice(half));
    log(
      `logs: stalled listener read ${round(read.bytes / MB, 1)} MiB; daemon RSS max ${round(firstHalf, 1)} MB (first half), ${round(secondHalf, 1)} MB (second half)`,
    );

    return {
      functions: options.functions,
      lookback_s: options.lookbackS,
      world_events: worldEvents,
      world_bytes: worldBytes,
      world_gb_per_simulated_hour: round(gbPerHour, 3),
      events_received: last.lines,
      bytes_received: last.bytes,
      wall_s: round(wallS, 2),
      cpu_s: round(lastGrowth.cpuS, 2),
      events_per_cpu_s: Math.round(last.lines / lastGrowth.cpuS),
      bytes_per_s: Math.round(last.bytes / wallS),
      peak_rss_mb: round(peak, 1),
      stall: {
        seconds: options.stallSeconds,
        listener_read_mb: round(read.bytes / MB, 1),
        rss_mb_first_half_max: round(firstHalf, 1),
        rss_mb_second_half_max: round(secondHalf, 1),
        peak_rss_mb: round(stallPeak, 1),
        alive,
        bounded: alive && secondHalf - firstHalf < 16,
      },
    };
  } finally {
    dogstatsd.close();
    await emulator.stop();
    rmSync(workroot, { recursive: true, force: true });
  }
}
