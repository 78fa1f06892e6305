/**
 * `npm run bench [-- --quick] [-- --out PATH]`: dogwatch against two baseline collectors, on the AWS
 * emulator (40 ms per call, default quotas, default publication delay), at ~1,000 / 10,000 / 100,000
 * queries. Writes the JSON results (--out, default bench-results.json) and BENCHMARKS.md.
 *
 * Layout: this process hosts the emulator and orchestrates; each collector runs in its own child
 * process (bench/worker.ts, --expose-gc) so its CPU, RSS and heap are its own; two more children are
 * the DogStatsD listeners (UDP, UDS) with OS-default receive buffers. Per size, one steady dogwatch run
 * is captured (its GetMetricData exchanges here, its lines by the UDS listener) and the floor
 * (bench/floor.ts) replays that work in a worker of its own.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Clock, ScaledClock } from '../core/clock.js';
import { AwsEmulator, DEFAULT_QUOTAS, quotaName } from '../emulator/index.js';
import type { ServiceName } from '../emulator/call.js';
import type { Call, HandlerResult } from '../emulator/call.js';
import { type CommandCost, measureCliCost } from './cli-cost.js';
import type { CapturedExchange } from './floor.js';
import { DEFAULT_LOGS_OPTIONS, type LogsResults, runLogsBench } from './logs.js';
import { readUdpDrops, type UdpDrops, udpDropsBetween } from './udp-drops.js';
import {
  allocationsByFunction,
  analyseProfile,
  type ProfileSummary,
  type SamplingHeapProfile,
} from './profile.js';
import {
  type CollectorKind,
  type ListenerCommand,
  type ListenerCounts,
  type ListenerMessage,
  type ParentMessage,
  STEADY_FROM_RUN,
  type WorkerConfig,
  type WorkerMessage,
  type WorkerResult,
} from './protocol.js';
import {
  type BenchResults,
  type CollectorFigures,
  figuresOf,
  floorFiguresOf,
  renderMarkdown,
  type SizeResult,
} from './report.js';

const here = dirname(fileURLToPath(import.meta.url));

/** World presets: one account, one region, the contract's mix scaled (4 functions : 2 REST : 1 HTTP : 1 WebSocket API). */
export const SIZES = [
  { label: '1k', scale: 1.55 },
  { label: '10k', scale: 18.55 },
  { label: '100k', scale: 188 },
] as const;

/**
 * The world of `--load` (60 consecutive dogwatch runs): ≥ 100,000 *series*, the figure (the
 * 100k size above is 100,000 queries, ~37,700 series). The bench counts a series per distinct
 * (namespace, metric, dimensions) dogwatch plans to emit, ~200 per unit of scale: scale 500 gives
 * ~100,200 series, ~265,000 queries. Its first run is discovery (ListMetrics, the inventories and the
 * Tagging API pages, under the emulator's quotas); the steady-state figures leave it out.
 */
export const LOAD_SIZE = { label: 'load', scale: 500 } as const;
const LOAD_RUNS = 60;
/** See lowerOwnThreadPriority. */
const EMULATOR_NICE = 10;

function worldFor(scale: number, t0: number) {
  return {
    accounts: ['123456789012'],
    regions: ['us-east-1'],
    edgeReplicaRegions: [] as string[],
    functions: Math.round(SCALE_FUNCTIONS * scale),
    restApis: Math.round(SCALE_REST * scale),
    httpApis: Math.round(SCALE_HTTP * scale),
    websocketApis: Math.round(SCALE_WS * scale),
    eventSourceMappings: Math.round(2 * scale),
    createdAtMs: t0 - 6 * 3600_000,
  };
}
// Scale 1 ≈ 84 + 530 queries (measured); the sizes above give ≈ 1,000 / 10,000 / 100,000.
const SCALE_FUNCTIONS = 8;
const SCALE_REST = 2;
const SCALE_HTTP = 1;
const SCALE_WS = 1;

class SwitchableClock implements Clock {
  current: Clock = new ScaledClock(Date.now(), Date.now(), 1);
  now(): number {
    return this.current.now();
  }
  monotonic(): number {
    return this.current.monotonic();
  }
}

interface Listener {
  child: ChildProcess;
  port?: number;
  path?: string;
  report(): Promise<ListenerCounts>;
  /** Keep what arrives from now on (resolves once the listener does). */
  capture(): Promise<void>;
  /** Write what arrived since `capture`, one line a line, to `path`; resolves to the number of lines. */
  saveCapture(path: string): Promise<number>;
}

/** Sends `command` to a listener and resolves with its first reply of `type`. */
function ask<T extends ListenerMessage['type']>(
  child: ChildProcess,
  command: ListenerCommand,
  type: T,
): Promise<ListenerMessage & { type: T }> {
  return new Promise((resolve) => {
    const onMessage = (m: ListenerMessage): void => {
      if (m.type === type) {
        child.off('message', onMessage);
        resolve(m as ListenerMessage & { type: T });
      }
    };
    child.on('message', onMessage);
    child.send(command);
  });
}

async function startListener(transport: 'udp' | 'uds', path: string): Promise<Listener> {
  const child = fork(join(here, 'listener.js'), [transport, path], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<ListenerMessage & { type: 'ready' }>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: ListenerMessage) => {
      if (m.type === 'ready') resolve(m);
    });
  });
  return {
    child,
    port: ready.port,
    path: ready.path,
    report: async () => (await ask(child, 'report', 'counts')).counts,
    capture: async () => void (await ask(child, 'capture', 'capturing')),
    saveCapture: async (path) => (await ask(child, { save: path }, 'captured')).lines,
  };
}

/**
 * Records and replays GetMetricData exchanges inside the emulator, for the floor. It wraps the
 * emulator's private dispatch (the one place that sees a call's request body and its answer together),
 * so the emulator itself stays as users run it. Replay answers a request whose body was recorded with
 * the recorded response (the emulator still computes and accounts its own), so the floor parses exactly
 * the bodies dogwatch parsed, whatever the virtual time.
 */
class ExchangeTap {
  private recording: CapturedExchange[] | undefined;
  private replaying: Map<string, string> | undefined;

  constructor(emulator: AwsEmulator) {
    const target = emulator as unknown as { handle(call: Call, requestId: string): HandlerResult };
    const handle = target.handle.bind(emulator);
    target.handle = (call, requestId) => {
      const result = handle(call, requestId);
      if (
        call.service !== 'cloudwatch' ||
        call.operation !== 'GetMetricData' ||
        (result.status ?? 200) !== 200
      )
        return result;
      if (this.recording) this.recording.push(exchangeOf(call, result));
      const recorded = this.replaying?.get(call.body);
      return recorded === undefined ? result : { ...result, body: recorded };
    };
  }

  record(): void {
    this.recording = [];
  }

  stop(): CapturedExchange[] {
    const recorded = this.recording ?? [];
    this.recording = undefined;
    return recorded;
  }

  replay(exchanges: readonly CapturedExchange[] | undefined): void {
    this.replaying = exchanges && new Map(exchanges.map((e) => [e.request, e.response]));
  }
}

/** Hop-by-hop headers and the length are the sender's own; the rest is replayed as dogwatch sent it. */
const NOT_REPLAYED = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

function exchangeOf(call: Call, result: HandlerResult): CapturedExchange {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(call.headers))
    if (value !== undefined && !NOT_REPLAYED.has(name))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return { headers, request: call.body, response: result.body };
}

function runWorker(
  config: WorkerConfig,
  emulator: AwsEmulator,
  clock: SwitchableClock,
  log: (text: string) => void,
  afterFork?: () => void,
  onCapture?: (on: boolean) => Promise<void>,
): Promise<WorkerResult> {
  const child = fork(join(here, 'worker.js'), [], {
    execArgv: ['--expose-gc', '--no-warnings'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  afterFork?.();
  const reply = (id: number, body: unknown): void => {
    const message: ParentMessage = { type: 'reply', id, body };
    child.send(message);
  };
  return new Promise((resolve, reject) => {
    let done = false;
    child.on('message', (m: WorkerMessage) => {
      switch (m.type) {
        case 'clock':
          clock.current = new ScaledClock(m.realOrigin, m.virtualOrigin, 1);
          reply(m.id, null);
          break;
        case 'accounting': {
          const snap = emulator.accounting.snapshot();
          const requests: Record<string, number> = {};
          let discoveryQuotaMs = 0;
          for (const r of snap.requests) {
            const [service, operation] = r.operation.split(':') as [ServiceName, string];
            const rate = DEFAULT_QUOTAS[quotaName(service, operation)];
            if (operation !== 'GetMetricData' && rate) discoveryQuotaMs += (1000 * r.count) / rate;
            const op = r.operation.split(':').pop()!;
            requests[op] = (requests[op] ?? 0) + r.count;
            if (r.outcome !== 'ok')
              requests[`${op}:${r.outcome}`] = (requests[`${op}:${r.outcome}`] ?? 0) + r.count;
          }
          emulator.accounting.reset();
          reply(m.id, { requests, metricsRequested: snap.metricsRequested, discoveryQuotaMs });
          break;
        }
        case 'capture':
          if (!onCapture) reply(m.id, null);
          else
            onCapture(m.on).then(
              () => reply(m.id, null),
              (error: unknown) => {
                log(`  capture failed: ${String(error)}`);
                reply(m.id, null);
              },
            );
          break;
        case 'progress':
          log(`    ${m.text}`);
          break;
        case 'result':
          done = true;
          resolve(m.result);
          break;
        case 'fatal':
          done = true;
          reject(new Error(`worker ${config.collector} failed: ${m.error}`));
          break;
      }
    });
    child.on('exit', (code) => {
      if (!done) reject(new Error(`worker ${config.collector} exited with code ${String(code)}`));
    });
    child.send({ type: 'start', config } satisfies ParentMessage);
  });
}

interface Args {
  quick: boolean;
  out: string;
  md: string | undefined;
  load: boolean;
  loadOnly: boolean;
  loadRuns: number;
  heapSnapshots: number[] | undefined;
  heapDir: string;
  loadProfile: string | undefined;
  emulatorNice: number;
  /** The logs section (bench/logs.ts): on in full mode, off in --quick unless asked. */
  logs: boolean;
  logsOnly: boolean;
  /**
   * `--focus 10k,100k`: an optimisation loop's measurement. Only these sizes, only dogwatch and its
   * floor (no baselines, no polling-300 table, no page), a one-line summary per size on stderr.
   */
  focus: string[] | undefined;
  /** With --focus: also a CPU profile of dogwatch's steady runs at each focused size, summarised. */
  focusProfile: boolean;
  /** The transport of the --focus-profile runs (default udp). */
  focusTransport: 'udp' | 'uds';
  /** With --focus: also an allocation-sampling profile of the steady runs, summarised by function. */
  focusAllocations: boolean;
}

/**
 * The measurements people add by hand (before/after comparisons, figures moved out of code comments)
 * live below HAND_WRITTEN_MARKER in BENCHMARKS.md: a regenerated page keeps them.
 */
const HAND_WRITTEN_MARKER = '<!-- Hand-written below this line: npm run bench keeps it. -->';

function handWrittenPart(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return `\n${HAND_WRITTEN_MARKER}\n`;
  }
  const at = text.indexOf(HAND_WRITTEN_MARKER);
  return at < 0 ? `\n${HAND_WRITTEN_MARKER}\n` : `\n${text.slice(at)}`;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    quick: false,
    out: 'bench-results.json',
    md: 'BENCHMARKS.md',
    load: false,
    loadOnly: false,
    loadRuns: LOAD_RUNS,
    heapSnapshots: undefined,
    heapDir: '.',
    loadProfile: undefined,
    emulatorNice: EMULATOR_NICE,
    // Default: on in full mode; a --quick or --load-only run skips it unless --logs is given.
    logs: !argv.includes('--quick') && !argv.includes('--load-only'),
    logsOnly: false,
    focus: undefined,
    focusProfile: false,
    focusTransport: 'udp',
    focusAllocations: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.quick = true;
    else if (a === '--out') args.out = argv[++i] ?? args.out;
    else if (a === '--md') args.md = argv[++i];
    else if (a === '--no-md') args.md = undefined;
    else if (a === '--load') args.load = true;
    else if (a === '--load-only') args.load = args.loadOnly = true;
    else if (a === '--load-runs') args.loadRuns = Number(argv[++i]);
    else if (a === '--heap-snapshots')
      args.heapSnapshots = (argv[++i] ?? '').split(',').filter(Boolean).map(Number);
    else if (a === '--heap-dir') args.heapDir = argv[++i] ?? args.heapDir;
    else if (a === '--load-profile') args.loadProfile = argv[++i];
    else if (a === '--emulator-nice') args.emulatorNice = Number(argv[++i]);
    else if (a === '--logs') args.logs = true;
    else if (a === '--no-logs') args.logs = false;
    else if (a === '--logs-only') args.logs = args.logsOnly = true;
    else if (a === '--focus') args.focus = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--focus-profile') args.focusProfile = true;
    else if (a === '--focus-allocations') args.focusAllocations = true;
    else if (a === '--focus-transport') args.focusTransport = argv[++i] === 'uds' ? 'uds' : 'udp';
    else if (a === '--help') {
      process.stdout.write(
        'usage: bench/run.js [--quick] [--logs | --no-logs | --logs-only] [--load | --load-only [--load-runs N] [--heap-snapshots RUN,… [--heap-dir DIR]]\n' +
          '                    [--load-profile PATH] [--emulator-nice N]] [--out PATH] [--md PATH | --no-md]\n' +
          '  --heap-snapshots: diagnosis of the load runs: full GC after each run (heap used recorded per run),\n' +
          '                    V8 heap snapshots after the listed runs; its stall figures are not comparable\n' +
          '  --load-profile:   a V8 CPU profile of load runs 2 and on (stalls.end_hr_us finds a stall in it)\n' +
          '  --logs:           the logs section (on by default, off with --quick); --logs-only: it alone, no page\n' +
          `  --emulator-nice:  niceness of the emulator's thread during the load runs (default ${EMULATOR_NICE}; 0: none)\n` +
          '  --focus 10k,100k: only these sizes, only dogwatch and its floor, a summary line each, no page\n' +
          '                    (an optimisation loop); --focus-profile adds a CPU profile of the steady runs\n' +
          '                    (over --focus-transport udp|uds, default udp); --focus-allocations adds an\n' +
          '                    allocation-sampling profile (bytes allocated per point, by function)\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.emulatorNice) || args.emulatorNice < 0 || args.emulatorNice > 19)
    throw new Error('--emulator-nice wants a whole number from 0 to 19');
  if (!Number.isInteger(args.loadRuns) || args.loadRuns < 2)
    throw new Error('--load-runs wants a whole number of runs, 2 or more');
  if (args.heapSnapshots && (!args.loadOnly || args.heapSnapshots.some((n) => !Number.isInteger(n) || n < 1)))
    throw new Error('--heap-snapshots wants --load-only and a comma-separated list of run numbers (1, 2, …)');
  if (args.focus) {
    const unknown = args.focus.filter((label) => !SIZES.some((size) => size.label === label));
    if (args.focus.length === 0 || unknown.length > 0)
      throw new Error(`--focus wants sizes among ${SIZES.map((size) => size.label).join(', ')}`);
    args.logs = false;
  }
  // BENCHMARKS.md shows every size and collector: a load-only or focused run writes its JSON and leaves the page alone.
  if (args.loadOnly || args.logsOnly || args.focus) args.md = undefined;
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (text: string): void => {
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${text}\n`);
  };
  const workroot = mkdtempSync(join(tmpdir(), 'dogwatch-bench-'));
  const udp = await startListener('udp', '');
  const uds = await startListener('uds', join(workroot, 'dsd.socket'));
  // A fixed virtual start, 30 s into a minute (a schedule not aligned to minutes).
  const t0 = Date.UTC(2025, 5, 2, 12, 0, 30);
  const sizes = args.focus
    ? SIZES.filter((size) => args.focus!.includes(size.label))
    : args.loadOnly || args.logsOnly
      ? []
      : args.quick
        ? SIZES.slice(0, 2)
        : SIZES;
  const results: SizeResult[] = [];
  const polling300: BenchResults['polling_300s'] = [];
  let profile: ProfileSummary | undefined;
  let load: BenchResults['load'];
  let logs: LogsResults | undefined;
  let cliCost: CommandCost[] | undefined;
  let workerSeq = 0;
  const focused: string[] = [];

  try {
    for (const size of sizes) {
      const clock = new SwitchableClock();
      const emulator = new AwsEmulator({ world: worldFor(size.scale, t0), clock, latencyMs: 40 });
      const tap = new ExchangeTap(emulator);
      const endpoint = await emulator.start();
      const planPath = join(workroot, `plan-${size.label}.json`);
      const capture = {
        exchangesPath: join(workroot, `capture-${size.label}.json`),
        linesPath: join(workroot, `capture-${size.label}.lines`),
      };
      let capturedExchanges: CapturedExchange[] | undefined;
      let capturedLines = 0;
      const onCapture = async (on: boolean): Promise<void> => {
        if (on) {
          await uds.capture();
          tap.record();
          return;
        }
        capturedExchanges = tap.stop();
        // What the sink sent may still be in the listener's socket buffer: the same wait as after a worker.
        await new Promise((resolve) => setTimeout(resolve, 300));
        capturedLines = await uds.saveCapture(capture.linesPath);
        writeFileSync(capture.exchangesPath, JSON.stringify(capturedExchanges));
      };
      const listMetricsPagesMin = ['AWS/Lambda', 'AWS/ApiGateway', 'AWS/Rekognition']
        .map((ns) => Math.ceil(emulator.world.series({ namespace: ns }).length / 500))
        .reduce((a, b) => a + b, 0);
      log(
        `size ${size.label}: emulator ${endpoint}, ${emulator.world.series().length} CloudWatch series in the world`,
      );
      const run = async (
        collector: CollectorKind,
        runs: number,
        extra: Partial<WorkerConfig> = {},
      ): Promise<{ result: WorkerResult; udp: ListenerCounts; uds: ListenerCounts }> => {
        await udp.report();
        await uds.report();
        const workdir = join(workroot, `w${++workerSeq}`);
        log(`  ${collector}: ${runs} runs${extra.pollSeconds === 300 ? ' every 300 s' : ''}`);
        const result = await runWorker(
          {
            collector,
            endpoint,
            udpPort: udp.port!,
            udsPath: uds.path!,
            runs,
            pollSeconds: 60,
            t0,
            workdir,
            planPath,
            transports: 'alternate',
            ...extra,
          },
          emulator,
          clock,
          log,
          undefined,
          extra.captureRun === undefined ? undefined : onCapture,
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        const counts = { result, udp: await udp.report(), uds: await uds.report() };
        rmSync(workdir, { recursive: true, force: true });
        if (result.errors.length > 0) log(`  ${collector} errors: ${result.errors.join(' | ')}`);
        return counts;
      };

      const standardRuns = args.quick ? 3 : 11;
      const figures: Partial<Record<CollectorKind, CollectorFigures>> = {};
      // The last UDS run (runs alternate UDP, UDS from run 0) is steady and captured for the floor: a
      // unix datagram socket loses nothing (its sender waits when the listener falls behind), a loaded
      // machine can drop UDP datagrams, and the lines are the same over either transport.
      const captureRun = standardRuns - 1 - (standardRuns % 2);
      const dw = await run('dogwatch', standardRuns, { captureRun });
      figures.dogwatch = figuresOf(dw.result, dw.udp, dw.uds, listMetricsPagesMin);
      let floor: SizeResult['floor'];
      if (capturedExchanges && capturedExchanges.length > 0) {
        tap.replay(capturedExchanges);
        // Runs alternate UDP and UDS, as dogwatch's: a floor per transport.
        const fl = await run('floor', standardRuns, { capture }).finally(() => tap.replay(undefined));
        floor = floorFiguresOf(fl.result, fl.udp, fl.uds, {
          run: captureRun + 1,
          points: dw.result.runs[captureRun]?.points ?? 0,
          lines: capturedLines,
        });
      } else log('  no GetMetricData captured from dogwatch: no floor at this size');
      if (args.focus) {
        const d = figures.dogwatch.json;
        const ratio = (a: number | undefined, b: number | undefined): string =>
          a !== undefined && b ? (a / b).toFixed(2) + 'x' : '–';
        const line =
          `${size.label}: dogwatch ${d.cpu_us_per_datapoint} µs/pt (UDP ${d.cpu_us_per_datapoint_udp} / UDS ${d.cpu_us_per_datapoint_uds}), ` +
          `floor UDP ${floor?.cpu_us_per_datapoint_udp} / UDS ${floor?.cpu_us_per_datapoint_uds}, ` +
          `÷ floor UDP ${ratio(d.cpu_us_per_datapoint_udp, floor?.cpu_us_per_datapoint_udp)} / UDS ${ratio(d.cpu_us_per_datapoint_uds, floor?.cpu_us_per_datapoint_uds)}; ` +
          `GetMetricData ${d.requests['GetMetricData']} (min ${d.getmetricdata_min}); wall ${d.wall_ms} ms (first ${d.wall_ms_first_run}, discovery's quota-bound time ${d.discovery_quota_ms_first_run}); ` +
          `peak RSS ${d.peak_rss_mb} MB (idle ${d.idle_rss_mb}), ${d.rss_kb_per_series} KB/series; heap growth ${d.heap_growth_mb} MB`;
        const cpuSplit = (transport: 'udp' | 'uds'): string => {
          const rs = dw.result.runs.slice(1).filter((r) => r.transport === transport);
          const mean = (f: (r: (typeof rs)[number]) => number): string =>
            rs.length === 0 ? '–' : (rs.reduce((n, r) => n + f(r), 0) / rs.length).toFixed(0);
          return `${transport} user ${mean((r) => r.cpuUserMs)} + sys ${mean((r) => r.cpuSystemMs)} ms`;
        };
        const rss = dw.result.runs.map((r) => r.rssMb);
        log(
          line +
            `; per steady run ${cpuSplit('udp')}, ${cpuSplit('uds')}; RSS after run 1 ${rss[0]} MB, ` +
            `after the steady runs ${Math.min(...rss.slice(1))}–${Math.max(...rss.slice(1))} MB`,
        );
        focused.push(line);
        if (args.focusProfile) {
          // Beside --out, kept: a profile is read again in DevTools or by bench/profile.ts.
          const path = join(dirname(resolve(args.out)), `dogwatch-${size.label}.cpuprofile`);
          const r = await run('dogwatch', 5, { profilePath: path, transports: args.focusTransport });
          const points = r.result.runs.slice(1).reduce((n, x) => n + x.points, 0);
          const summary = analyseProfile(JSON.parse(readFileSync(path, 'utf8')), points, 25);
          const rows = (items: readonly { name: string; us_per_datapoint: number; pct: number }[]): string =>
            items
              .map(
                (i) =>
                  `    ${i.us_per_datapoint.toFixed(2).padStart(6)} µs/pt ${String(i.pct).padStart(5)} %  ${i.name}`,
              )
              .join('\n');
          log(
            `  profile ${size.label}: ${summary.us_per_datapoint} µs/pt busy\n  by area:\n${rows(summary.by_area)}\n  by function:\n${rows(summary.top_functions)}`,
          );
        }
        if (args.focusAllocations) {
          const path = join(dirname(resolve(args.out)), `dogwatch-${size.label}.heapprofile`);
          const r = await run('dogwatch', 5, { profilePath: path, transports: args.focusTransport });
          const points = r.result.runs.slice(1).reduce((n, x) => n + x.points, 0);
          const top = allocationsByFunction(
            JSON.parse(readFileSync(path, 'utf8')) as SamplingHeapProfile,
            30,
          );
          const total = top.total;
          log(
            `  allocations ${size.label} (${path}): ${(total / points).toFixed(0)} B/pt sampled\n` +
              top.rows
                .map(
                  (row) =>
                    `    ${(row.bytes / points).toFixed(1).padStart(7)} B/pt ${String(Math.round((100 * row.bytes) / total)).padStart(3)} %  ${row.name}`,
                )
                .join('\n'),
          );
        }
        await emulator.stop();
        continue;
      }
      const ov = await run('overlap', standardRuns);
      figures.overlap = figuresOf(ov.result, ov.udp, ov.uds, listMetricsPagesMin);
      if (size.label === '1k' || (size.label === '10k' && !args.quick)) {
        const nv = await run('naive', size.label === '1k' ? (args.quick ? 2 : standardRuns) : 3);
        figures.naive = figuresOf(nv.result, nv.udp, nv.uds, listMetricsPagesMin);
      } else {
        const base = results[results.length - 1]?.naive;
        figures.naive = base ? extrapolateNaive(base, figures.dogwatch) : undefined;
      }
      if (size.label === '1k') {
        for (const collector of args.quick
          ? (['dogwatch', 'overlap'] as const)
          : (['dogwatch', 'overlap', 'naive'] as const)) {
          const r = await run(collector, 3, { pollSeconds: 300, transports: 'udp' });
          const steady = r.result.runs.slice(1);
          const distinct = steady.reduce((n, x) => n + x.distinctPoints, 0) / steady.length;
          const rowsPerRun = figures.dogwatch.json.datapoints; // one new point per row per 60 s
          polling300.push({
            collector,
            queries: r.result.queries,
            points_per_run: round(distinct, 1),
            available_per_run: rowsPerRun * 5,
            delivered_fraction: round(distinct / (rowsPerRun * 5), 3),
          });
        }
      }
      if (size.label === '10k' && !args.quick) {
        const path = join(workroot, 'dogwatch.cpuprofile');
        const r = await run('dogwatch', 5, { profilePath: path, transports: 'udp' });
        const points = r.result.runs.slice(1).reduce((n, x) => n + x.points, 0);
        profile = analyseProfile(JSON.parse(readFileSync(path, 'utf8')), points);
      }
      await emulator.stop();
      results.push({
        queries: figures.dogwatch.queries,
        series: figures.dogwatch.series,
        world: worldFor(size.scale, t0),
        listmetrics_min_pages: listMetricsPagesMin,
        dogwatch: figures.dogwatch.json,
        naive: figures.naive?.json,
        overlap: figures.overlap.json,
        floor,
        dogwatch_to_floor_cpu: floor
          ? round(figures.dogwatch.json.cpu_us_per_datapoint / floor.cpu_us_per_datapoint, 3)
          : null,
        dogwatch_to_floor_cpu_udp: perTransportRatio(
          figures.dogwatch.json.cpu_us_per_datapoint_udp,
          floor?.cpu_us_per_datapoint_udp,
        ),
        dogwatch_to_floor_cpu_uds: perTransportRatio(
          figures.dogwatch.json.cpu_us_per_datapoint_uds,
          floor?.cpu_us_per_datapoint_uds,
        ),
      });
    }
    if (args.load) {
      // dogwatch alone, LOAD_RUNS runs back to back, in the ≥ 100,000-series world.
      let emulatorNice = 0;
      const clock = new SwitchableClock();
      const emulator = new AwsEmulator({ world: worldFor(LOAD_SIZE.scale, t0), clock, latencyMs: 40 });
      const endpoint = await emulator.start();
      log(`load: emulator ${endpoint}, ${emulator.world.series().length} CloudWatch series in the world`);
      await udp.report();
      await uds.report();
      const dropsBefore = readUdpDrops();
      const workdir = join(workroot, `w${++workerSeq}`);
      log(`  dogwatch: ${args.loadRuns} runs`);
      const result = await runWorker(
        {
          collector: 'dogwatch',
          endpoint,
          udpPort: udp.port!,
          udsPath: uds.path!,
          runs: args.loadRuns,
          pollSeconds: 60,
          ...(args.heapSnapshots
            ? { heapSnapshotRuns: args.heapSnapshots, heapSnapshotDir: resolve(args.heapDir) }
            : {}),
          ...(args.loadProfile ? { profilePath: resolve(args.loadProfile) } : {}),
          t0,
          workdir,
          planPath: join(workroot, 'plan-load.json'),
          transports: 'alternate',
        },
        emulator,
        clock,
        log,
        // Once the worker is forked (it keeps its own priority): nothing is forked after the load runs.
        () => (emulatorNice = lowerOwnThreadPriority(args.emulatorNice, log)),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [gotUdp, gotUds] = [await udp.report(), await uds.report()];
      const drops = udpDropsBetween(dropsBefore, readUdpDrops());
      rmSync(workdir, { recursive: true, force: true });
      await emulator.stop();
      if (result.errors.length > 0) log(`  dogwatch errors: ${result.errors.join(' | ')}`);
      load = { ...loadFigures(result, gotUdp, gotUds, drops), emulator_nice: emulatorNice };
    }
    if (args.logs) logs = await runLogsBench(DEFAULT_LOGS_OPTIONS, log);
    if (!args.loadOnly && !args.logsOnly && !args.focus) {
      log('command-line cost: --version and health beside bare node');
      cliCost = await measureCliCost();
    }
  } finally {
    udp.child.send('exit');
    uds.child.send('exit');
    rmSync(workroot, { recursive: true, force: true });
  }

  const out: BenchResults = {
    generated: new Date().toISOString(),
    mode: args.quick ? 'quick' : 'full',
    node: process.version,
    sizes: results,
    polling_300s: polling300,
    cpu_profile: profile,
    load,
    ...(logs ? { logs } : {}),
    ...(cliCost ? { cli_cost: cliCost } : {}),
    ...(args.focus ? { focus: focused } : {}),
    elapsed_s: round((Date.now() - started) / 1000, 1),
  };
  writeFileSync(args.out, `${JSON.stringify(out, null, 2)}\n`);
  log(`wrote ${args.out}`);
  if (args.md) {
    writeFileSync(args.md, renderMarkdown(out) + handWrittenPart(args.md));
    log(`wrote ${args.md}`);
  }
}

/**
 * The emulator stands in for AWS, which in production runs on other machines. On the bench's 2 cores it
 * answers 50 GetMetricData calls a second in this process's main thread, and at the same priority it
 * preempted the collector: most of each event-loop stall over 200 ms was the collector's main thread
 * runnable but not running (bench/stall-attribution.ts). Linux applies setpriority(pid 0) to the calling
 * thread only, so this lowers the emulator's thread, not the listeners or the worker forked before.
 * Returns the niceness now in effect.
 */
function lowerOwnThreadPriority(nice: number, log: (text: string) => void): number {
  if (nice === 0) return 0;
  try {
    setPriority(nice);
    return nice;
  } catch (error) {
    log(`  could not lower the emulator's priority (${String(error)}); it competes with the collector`);
    return 0;
  }
}

function loadFigures(
  result: WorkerResult,
  gotUdp: ListenerCounts,
  gotUds: ListenerCounts,
  drops: UdpDrops | undefined,
): Omit<NonNullable<BenchResults['load']>, 'emulator_nice'> {
  const runs = result.runs;
  const steady = runs.slice(1);
  const rss = runs.map((r) => r.rssMb);
  const steadyRss = rss.slice(STEADY_FROM_RUN - 1);
  const lossPct = (sent: number, got: number): number =>
    sent === 0 ? 0 : round((100 * (sent - got)) / sent, 3);
  return {
    queries: result.queries,
    series: result.series,
    runs: runs.length,
    rss_mb_first: rss[1] ?? NaN,
    rss_mb_min: Math.min(...rss.slice(1)),
    rss_mb_max: Math.max(...rss.slice(1)),
    rss_mb_run10: rss[10] ?? NaN,
    rss_mb_run30: rss[29] ?? NaN,
    rss_mb_last: rss[rss.length - 1] ?? NaN,
    peak_rss_mb: round(result.peakRssMb, 1),
    heap_after_gc_mb_run1: round(result.heapAfterFirstMb, 2),
    heap_after_gc_mb_run11: result.heapAfterTenthMb === null ? null : round(result.heapAfterTenthMb, 2),
    heap_after_gc_mb_steady: result.heapAfterSteadyMb === null ? null : round(result.heapAfterSteadyMb, 2),
    heap_after_gc_mb_last: result.heapAfterLastMb === null ? null : round(result.heapAfterLastMb, 2),
    rss_mb_steady_min: steadyRss.length > 0 ? Math.min(...steadyRss) : null,
    rss_mb_steady_max: steadyRss.length > 0 ? Math.max(...steadyRss) : null,
    event_loop_max_ms: Math.max(...steady.map((r) => r.eventLoopMaxMs)),
    event_loop_max_ms_first_run: runs[0]?.eventLoopMaxMs ?? NaN,
    runs_over_200ms: steady.filter((r) => r.eventLoopMaxMs > 200).length,
    stalls_over_200ms: steady
      .filter((r) => r.eventLoopMaxMs > 200)
      .map((r) => ({
        run: r.index + 1,
        ms: round(r.gc.worst.ms, 0),
        gc_ms: round(r.gc.worst.gcMs, 0),
        major_gc_ms: round(r.gc.worst.majorGcMs, 0),
        cpu_ms: r.gc.worst.mainThreadCpuMs === null ? null : round(r.gc.worst.mainThreadCpuMs, 0),
        wait_ms: r.gc.worst.runQueueWaitMs === null ? null : round(r.gc.worst.runQueueWaitMs, 0),
        end_hr_us: r.gc.worst.endHrUs,
      })),
    gc_max_pause_ms: round(Math.max(...steady.map((r) => r.gc.gcMaxPauseMs)), 1),
    wall_ms_median: round(median(steady.map((r) => r.wallMs)), 0),
    wall_ms_max: Math.max(...steady.map((r) => r.wallMs)),
    wall_ms_first_run: round(runs[0]?.wallMs ?? NaN, 0),
    discovery_quota_ms_first_run: round(runs[0]?.discoveryQuotaMs ?? NaN, 0),
    cpu_ms_median: round(median(steady.map((r) => r.cpuUserMs + r.cpuSystemMs)), 0),
    points_per_run: round(steady.reduce((n, r) => n + r.points, 0) / Math.max(1, steady.length), 1),
    failures: runs.reduce((n, r) => n + r.failures, 0),
    loss_udp_pct: lossPct(result.sentPoints.udp, gotUdp.points),
    loss_uds_pct: lossPct(result.sentPoints.uds, gotUds.points),
    sent_udp: result.sentPoints.udp,
    received_udp: gotUdp.points,
    sent_uds: result.sentPoints.uds,
    received_uds: gotUds.points,
    ...(drops ? { udp_rcvbuf_errors: drops.rcvbufErrors, udp_sndbuf_errors: drops.sndbufErrors } : {}),
    by_run: runs.map((r) => ({
      rss_mb: round(r.rssMb, 1),
      heap_total_mb: round(r.heapTotalMb, 1),
      external_mb: round(r.externalMb, 1),
      event_loop_max_ms: round(r.eventLoopMaxMs, 1),
      gc_total_ms: round(r.gc.gcTotalMs, 0),
      gc_max_pause_ms: round(r.gc.gcMaxPauseMs, 1),
      major_gcs: r.gc.majorGcs,
      wall_ms: round(r.wallMs, 0),
      cpu_ms: round(r.cpuUserMs + r.cpuSystemMs, 0),
      ...(r.heapAfterGcMb === undefined ? {} : { heap_after_gc_mb: round(r.heapAfterGcMb, 1) }),
      points: r.points,
      failures: r.failures,
    })),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Naive at sizes too slow to run: requests and cost are exact (one call per query); time and CPU scale linearly. */
function extrapolateNaive(base: SizeResult['naive'], dogwatch: CollectorFigures): CollectorFigures {
  const k = dogwatch.queries / base!.queries_measured;
  const scaled = { ...base! };
  for (const key of [
    'metrics_requested',
    'datapoints',
    'distinct_datapoints',
    'wall_ms',
    'cpu_ms',
    'datagrams',
    'bytes',
    'cost_usd_per_hour_60s',
    'cost_usd_per_hour_300s',
  ] as const)
    scaled[key] = round((base![key] ?? 0) * k, 4);
  scaled.requests = Object.fromEntries(
    Object.entries(base!.requests).map(([op, n]) => [op, round(n * k, 1)]),
  );
  scaled.getmetricdata_min = dogwatch.json.getmetricdata_min;
  scaled.requests_min = dogwatch.json.requests_min;
  scaled.requests_ratio_to_min = round(
    Object.values(scaled.requests).reduce((a, b) => a + b, 0) / dogwatch.json.requests_min,
    3,
  );
  scaled.queries_measured = base!.queries_measured;
  scaled.received_udp = null;
  scaled.received_uds = null;
  scaled.sent_udp = 0;
  scaled.sent_uds = 0;
  scaled.loss_udp_pct = null;
  scaled.loss_uds_pct = null;
  scaled.idle_rss_mb = null;
  scaled.rss_kb_per_series = null;
  scaled.event_loop_max_ms = NaN;
  scaled.peak_rss_mb = null;
  scaled.heap_growth_mb = null;
  scaled.extrapolated = true;
  return { queries: dogwatch.queries, series: dogwatch.series, json: scaled };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

/** dogwatch ÷ floor for one transport, when both measured it. */
function perTransportRatio(dogwatch: number | undefined, floor: number | undefined): number | null {
  return dogwatch === undefined || floor === undefined || floor === 0 ? null : round(dogwatch / floor, 3);
}
