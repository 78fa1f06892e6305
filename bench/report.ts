/** Figures from worker results, the JSON shape (stable: other tools read it) and BENCHMARKS.md. */
import { type CommandCost, cliCostSection } from './cli-cost.js';
import type { LogsResults } from './logs.js';
import type { ProfileSummary } from './profile.js';
import { STALL_TICK_MS } from './stall-attribution.js';
import { type ListenerCounts, STEADY_FROM_RUN, type WorkerResult } from './protocol.js';

const USD_PER_UNIT = 0.01 / 1000;
/** Discovery is cached for discovery_ttl = 600 s: one discovery per 10 runs at 60 s polling. */
const RUNS_PER_TTL = 10;

export interface CollectorJson {
  requests: Record<string, number>;
  getmetricdata_min: number;
  requests_min: number;
  requests_ratio_to_min: number;
  metrics_requested: number;
  datapoints: number;
  distinct_datapoints: number;
  wall_ms: number;
  wall_ms_first_run: number;
  /** The first run's calls other than GetMetricData, each ÷ its quota's rate, summed (ms). */
  discovery_quota_ms_first_run?: number;
  cpu_ms: number;
  cpu_us_per_datapoint: number;
  /** The same over the steady runs of one transport only (the floor sends over UDP). */
  cpu_us_per_datapoint_udp?: number;
  cpu_us_per_datapoint_uds?: number;
  idle_rss_mb: number | null;
  peak_rss_mb: number | null;
  rss_kb_per_series: number | null;
  heap_growth_mb: number | null;
  datagrams: number;
  bytes: number;
  bytes_per_datapoint: number;
  max_datagram_bytes: number;
  max_datagram_bytes_udp: number;
  max_datagram_bytes_uds: number;
  sent_udp: number;
  received_udp: number | null;
  loss_udp_pct: number | null;
  sent_uds: number;
  received_uds: number | null;
  loss_uds_pct: number | null;
  freshness_p50_s: number;
  freshness_p99_s: number;
  cost_usd_per_hour_60s: number;
  cost_usd_per_hour_300s: number;
  cost_usd_per_million_datapoints_60s: number;
  throttled: number;
  event_loop_max_ms: number;
  failed_runs: number;
  runs: number;
  queries_measured: number;
  extrapolated?: boolean;
}

export interface CollectorFigures {
  readonly queries: number;
  readonly series: number;
  readonly json: CollectorJson;
}

export interface SizeResult {
  queries: number;
  series: number;
  world: Record<string, unknown>;
  listmetrics_min_pages: number;
  dogwatch: CollectorJson;
  naive: CollectorJson | undefined;
  overlap: CollectorJson;
  /** The machine's floor for dogwatch's captured work (bench/floor.ts); absent when nothing was captured. */
  floor?: FloorJson;
  /** dogwatch.cpu_us_per_datapoint ÷ floor.cpu_us_per_datapoint, measured in the same bench run. */
  dogwatch_to_floor_cpu?: number | null;
  /** The same per transport: dogwatch's runs over UDP ÷ the floor's over UDP, and over UDS. */
  dogwatch_to_floor_cpu_udp?: number | null;
  dogwatch_to_floor_cpu_uds?: number | null;
}

/**
 * The floor at one size: what it replays per run (captured from one steady dogwatch run) and what that
 * cost. Steady figures are over runs 2 and on (run 1 warms the JIT and the keep-alive connections).
 */
export interface FloorJson {
  /** Which dogwatch run (1-based) was captured, its timestamped lines, and every line the listener got. */
  captured_run: number;
  captured_datapoints: number;
  captured_lines: number;
  /** Per run: GetMetricData round trips and the bytes of their request and response bodies. */
  requests: number;
  request_bytes: number;
  response_bytes: number;
  /** Per run: lines formatted from parsed values, and lines sent as captured (dogwatch's telemetry). */
  lines_formatted: number;
  lines_verbatim: number;
  /** Per run: timestamped lines sent (the same points as the captured run). */
  datapoints: number;
  wall_ms: number;
  cpu_ms: number;
  cpu_us_per_datapoint: number;
  /** The steady runs of one transport (runs alternate UDP, UDS as dogwatch's do). */
  cpu_us_per_datapoint_udp?: number;
  cpu_us_per_datapoint_uds?: number;
  datagrams: number;
  bytes: number;
  bytes_per_datapoint: number;
  max_datagram_bytes_udp: number;
  max_datagram_bytes_uds: number;
  sent_udp: number;
  received_udp: number;
  loss_udp_pct: number;
  sent_uds: number;
  received_uds: number;
  loss_uds_pct: number;
  /** Throttled GetMetricData calls sent again, over all runs (0 expected: the floor paces at the quota). */
  throttled_retries: number;
  failed_runs: number;
  runs: number;
}

export interface BenchResults {
  generated: string;
  mode: 'quick' | 'full';
  node: string;
  sizes: SizeResult[];
  polling_300s: {
    collector: string;
    queries: number;
    points_per_run: number;
    available_per_run: number;
    delivered_fraction: number;
  }[];
  cpu_profile: ProfileSummary | undefined;
  /** The logs section (bench/logs.ts); absent from quick runs and results from before. */
  logs?: LogsResults;
  /** `--version` and `health` as whole processes beside bare Node (bench/cli-cost.ts); absent from results from before. */
  cli_cost?: CommandCost[];
  load:
    | {
        queries: number;
        series: number;
        runs: number;
        rss_mb_first: number;
        rss_mb_min: number;
        rss_mb_max: number;
        rss_mb_run10: number;
        rss_mb_run30: number;
        rss_mb_last: number;
        peak_rss_mb: number;
        /** Heap used after a forced full GC, after runs 1, 11 and the last. */
        heap_after_gc_mb_run1: number;
        heap_after_gc_mb_run11: number | null;
        /** Lowest after runs STEADY_FROM_RUN..+2 (the first refresh and the late horizon behind). */
        heap_after_gc_mb_steady: number | null;
        heap_after_gc_mb_last: number | null;
        /** RSS over runs STEADY_FROM_RUN.. (null with fewer runs). */
        rss_mb_steady_min: number | null;
        rss_mb_steady_max: number | null;
        event_loop_max_ms: number;
        event_loop_max_ms_first_run: number;
        runs_over_200ms: number;
        wall_ms_median: number;
        wall_ms_max: number;
        wall_ms_first_run: number;
        /** The first run's calls other than GetMetricData, each ÷ its quota's rate, summed (ms). */
        discovery_quota_ms_first_run?: number;
        cpu_ms_median: number;
        points_per_run: number;
        failures: number;
        loss_udp_pct: number;
        loss_uds_pct: number;
        /** Timestamped lines sent and received over the load (absent in results from before). */
        sent_udp?: number;
        received_udp?: number;
        sent_uds?: number;
        received_uds?: number;
        /**
         * Datagrams the kernel dropped during the load at a full receive buffer (the listener fell behind)
         * and at a full send buffer, whole network namespace (`/proc/net/snmp`); absent where unreadable.
         */
        udp_rcvbuf_errors?: number;
        udp_sndbuf_errors?: number;
        /** Runs over 200 ms: how much of their longest stall was GC pauses, and main-thread CPU. */
        stalls_over_200ms: {
          run: number;
          ms: number;
          gc_ms: number;
          major_gc_ms: number;
          cpu_ms: number | null;
          /** Runnable but waiting for a core (schedstat); absent in results from before it was recorded. */
          wait_ms?: number | null;
          end_hr_us: number;
        }[];
        gc_max_pause_ms: number;
        /** Niceness of the emulator's thread during the load runs (0: same priority as the collector). */
        emulator_nice: number;
        by_run: {
          rss_mb: number;
          heap_total_mb: number;
          external_mb: number;
          event_loop_max_ms: number;
          gc_total_ms: number;
          gc_max_pause_ms: number;
          major_gcs: number;
          /** Only with --heap-snapshots (diagnosis). */
          heap_after_gc_mb?: number;
          wall_ms: number;
          cpu_ms: number;
          points: number;
          failures: number;
        }[];
      }
    | undefined;
  elapsed_s: number;
  /** `--focus` runs only: dogwatch and its floor, one summary line per focused size. */
  focus?: string[];
}

const r = (x: number, d = 2): number => {
  const f = 10 ** d;
  return Number.isFinite(x) ? Math.round(x * f) / f : x;
};
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const STEADY_OPS = new Set(['GetMetricData', 'GetMetricStatistics']);

function timesOrDash(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${fmt(x, 2)}×`;
}

function lossPct(sent: number, received: number): number {
  return sent === 0 ? 0 : r((100 * (sent - received)) / sent, 3);
}

/** CPU µs per point over these runs (undefined without any: the key is then left out). */
function cpuPerPoint(runs: readonly WorkerResult['runs'][number][]): number | undefined {
  const points = runs.reduce((n, x) => n + x.points, 0);
  const cpuUs = runs.reduce((n, x) => n + (x.cpuUserMs + x.cpuSystemMs) * 1000, 0);
  return points === 0 ? undefined : r(cpuUs / points, 2);
}

export function figuresOf(
  result: WorkerResult,
  udp: ListenerCounts,
  uds: ListenerCounts,
  listMetricsMinPages: number,
): CollectorFigures {
  const first = result.runs[0]!;
  // Steady state: runs 2..11 (the first run also discovers; the Load runs beyond 11 are reported apart).
  const steady = result.runs.slice(1, 11);
  const requests: Record<string, number> = {};
  for (const op of new Set(steady.flatMap((x) => Object.keys(x.requests)))) {
    if (op.includes(':') || !STEADY_OPS.has(op)) continue;
    requests[op] = r(mean(steady.map((x) => x.requests[op] ?? 0)), 2);
  }
  for (const [op, n] of Object.entries(first.requests)) {
    if (op.includes(':') || STEADY_OPS.has(op)) continue;
    requests[op] = r(n / RUNS_PER_TTL, 2);
  }
  const throttled = mean(
    steady.map((x) =>
      Object.entries(x.requests).reduce((n, [k, v]) => n + (k.endsWith(':throttled') ? v : 0), 0),
    ),
  );
  const gmdMin = Math.ceil(result.queries / 500);
  const requestsMin = gmdMin + listMetricsMinPages / RUNS_PER_TTL;
  const totalRequests = Object.values(requests).reduce((a, b) => a + b, 0);
  const metricsRequested = mean(steady.map((x) => x.metricsRequested));
  const gms = requests.GetMetricStatistics ?? 0;
  const listPerHour = (first.requests.ListMetrics ?? 0) * 6;
  const costHour = (runsPerHour: number): number =>
    ((metricsRequested + gms) * runsPerHour + listPerHour) * USD_PER_UNIT;
  const points = mean(steady.map((x) => x.points));
  const distinct = mean(steady.map((x) => x.distinctPoints));
  const cpuMs = mean(steady.map((x) => x.cpuUserMs + x.cpuSystemMs));
  const totalPoints = steady.reduce((n, x) => n + x.points, 0);
  const totalCpuUs = steady.reduce((n, x) => n + (x.cpuUserMs + x.cpuSystemMs) * 1000, 0);
  const datagrams = mean(steady.map((x) => x.datagrams));
  const bytes = mean(steady.map((x) => x.bytes));
  const loss = (sent: number, got: number): number => (sent === 0 ? 0 : r((100 * (sent - got)) / sent, 3));
  const json: CollectorJson = {
    requests,
    getmetricdata_min: gmdMin,
    requests_min: r(requestsMin, 2),
    requests_ratio_to_min: r(totalRequests / requestsMin, 3),
    metrics_requested: r(metricsRequested, 1),
    datapoints: r(points, 1),
    distinct_datapoints: r(distinct, 1),
    wall_ms: r(median(steady.map((x) => x.wallMs)), 0),
    wall_ms_first_run: r(first.wallMs, 0),
    discovery_quota_ms_first_run: r(first.discoveryQuotaMs ?? 0, 0),
    cpu_ms: r(cpuMs, 1),
    cpu_us_per_datapoint: r(totalCpuUs / Math.max(1, totalPoints), 2),
    cpu_us_per_datapoint_udp: cpuPerPoint(steady.filter((x) => x.transport === 'udp')),
    cpu_us_per_datapoint_uds: cpuPerPoint(steady.filter((x) => x.transport === 'uds')),
    idle_rss_mb: r(result.idleRssMb, 1),
    peak_rss_mb: r(result.peakRssMb, 1),
    rss_kb_per_series: r(((result.peakRssMb - result.idleRssMb) * 1024) / Math.max(1, result.series), 2),
    heap_growth_mb:
      result.heapAfterTenthMb === null ? null : r(result.heapAfterTenthMb - result.heapAfterFirstMb, 3),
    datagrams: r(datagrams, 1),
    bytes: r(bytes, 0),
    bytes_per_datapoint: r(bytes / Math.max(1, points), 1),
    max_datagram_bytes: Math.max(udp.maxDatagramBytes, uds.maxDatagramBytes),
    max_datagram_bytes_udp: udp.maxDatagramBytes,
    max_datagram_bytes_uds: uds.maxDatagramBytes,
    sent_udp: result.sentPoints.udp,
    received_udp: udp.points,
    loss_udp_pct: loss(result.sentPoints.udp, udp.points),
    sent_uds: result.sentPoints.uds,
    received_uds: uds.points,
    loss_uds_pct: loss(result.sentPoints.uds, uds.points),
    freshness_p50_s: result.freshnessP50,
    freshness_p99_s: result.freshnessP99,
    cost_usd_per_hour_60s: r(costHour(60), 4),
    cost_usd_per_hour_300s: r(costHour(12), 4),
    cost_usd_per_million_datapoints_60s: r((costHour(60) / Math.max(1, distinct * 60)) * 1e6, 3),
    throttled: r(throttled, 2),
    event_loop_max_ms: r(Math.max(...steady.map((x) => x.eventLoopMaxMs)), 1),
    failed_runs: result.runs.filter((x) => x.failures > 0).length,
    runs: result.runs.length,
    queries_measured: result.queries,
  };
  return { queries: result.queries, series: result.series, json };
}

/** The floor's figures (see FloorJson); `captured` describes the dogwatch run it replays. */
export function floorFiguresOf(
  result: WorkerResult,
  udp: ListenerCounts,
  uds: ListenerCounts,
  captured: { run: number; points: number; lines: number },
): FloorJson {
  const steady = result.runs.slice(1);
  const setup = result.floor;
  const totalPoints = steady.reduce((n, x) => n + x.points, 0);
  const totalCpuUs = steady.reduce((n, x) => n + (x.cpuUserMs + x.cpuSystemMs) * 1000, 0);
  const points = mean(steady.map((x) => x.points));
  const bytes = mean(steady.map((x) => x.bytes));
  return {
    captured_run: captured.run,
    captured_datapoints: captured.points,
    captured_lines: captured.lines,
    requests: setup?.requests ?? 0,
    request_bytes: setup?.requestBytes ?? 0,
    response_bytes: setup?.responseBytes ?? 0,
    lines_formatted: setup?.linesFormatted ?? 0,
    lines_verbatim: setup?.linesVerbatim ?? 0,
    datapoints: r(points, 1),
    wall_ms: r(median(steady.map((x) => x.wallMs)), 0),
    cpu_ms: r(mean(steady.map((x) => x.cpuUserMs + x.cpuSystemMs)), 1),
    cpu_us_per_datapoint: r(totalCpuUs / Math.max(1, totalPoints), 2),
    cpu_us_per_datapoint_udp: cpuPerPoint(steady.filter((x) => x.transport === 'udp')),
    cpu_us_per_datapoint_uds: cpuPerPoint(steady.filter((x) => x.transport === 'uds')),
    datagrams: r(mean(steady.map((x) => x.datagrams)), 1),
    bytes: r(bytes, 0),
    bytes_per_datapoint: r(bytes / Math.max(1, points), 1),
    max_datagram_bytes_udp: udp.maxDatagramBytes,
    max_datagram_bytes_uds: uds.maxDatagramBytes,
    sent_udp: result.sentPoints.udp,
    received_udp: udp.points,
    loss_udp_pct: lossPct(result.sentPoints.udp, udp.points),
    sent_uds: result.sentPoints.uds,
    received_uds: uds.points,
    loss_uds_pct: lossPct(result.sentPoints.uds, uds.points),
    throttled_retries: setup?.throttledRetries ?? 0,
    failed_runs: result.runs.filter((x) => x.failures > 0).length,
    runs: result.runs.length,
  };
}

// ---- markdown -------------------------------------------------------------------------------------

const fmt = (x: number | null | undefined, d = 2): string => {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return String(r(x, d));
};
const ratio = (a: number | null | undefined, b: number | null | undefined): string =>
  a === null || a === undefined || b === null || b === undefined || b === 0 ? '–' : `${fmt(a / b, 3)}×`;
const usd = (x: number): string => `$${x < 1 ? x.toFixed(4) : x.toFixed(2)}`;

function sizeTable(s: SizeResult): string {
  const d = s.dogwatch;
  const o = s.overlap;
  const n = s.naive;
  const reqTotal = (j: CollectorJson | undefined): number | undefined =>
    j ? Object.values(j.requests).reduce((a, b) => a + b, 0) : undefined;
  const reqOps = (j: CollectorJson | undefined): string =>
    j
      ? Object.entries(j.requests)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ')
      : '–';
  const f = s.floor;
  // The floor's figure for a row, where it has one (it does the same work, so only these compare).
  const floorCell: Record<string, (x: FloorJson) => number | undefined> = {
    'GetMetricData / run': (x) => x.requests,
    'points sent / run': (x) => x.datapoints,
    'wall ms / run (median)': (x) => x.wall_ms,
    'CPU ms / run': (x) => x.cpu_ms,
    'CPU µs / point over UDP': (x) => x.cpu_us_per_datapoint_udp,
    'CPU µs / point over UDS': (x) => x.cpu_us_per_datapoint_uds,
    'CPU µs / point': (x) => x.cpu_us_per_datapoint,
    'datagrams / run': (x) => x.datagrams,
    'bytes / point': (x) => x.bytes_per_datapoint,
    'largest datagram UDP / UDS': (x) => x.max_datagram_bytes_udp,
    'loss UDP % (out-of-process listener)': (x) => x.loss_udp_pct,
    'loss UDS %': (x) => x.loss_uds_pct,
  };
  const floorRatioRows = new Set([
    'CPU ms / run',
    'CPU µs / point',
    'CPU µs / point over UDP',
    'CPU µs / point over UDS',
  ]);
  const rows: [string, (j: CollectorJson) => number | null | undefined, boolean][] = [
    ['API requests / run (discovery ÷ 10)', (j) => reqTotal(j), true],
    [
      'GetMetricData / run (min ' + String(d.getmetricdata_min) + ')',
      (j) => j.requests.GetMetricData ?? 0,
      false,
    ],
    ['requests ÷ minimum', (j) => j.requests_ratio_to_min, false],
    ['metrics requested / run', (j) => j.metrics_requested, true],
    ['cost $/hour @60 s', (j) => j.cost_usd_per_hour_60s, true],
    ['cost $/hour @300 s', (j) => j.cost_usd_per_hour_300s, true],
    ['cost $ / 1M points @60 s', (j) => j.cost_usd_per_million_datapoints_60s, true],
    ['points sent / run', (j) => j.datapoints, true],
    ['distinct new points / run', (j) => j.distinct_datapoints, true],
    ['wall ms / run (median)', (j) => j.wall_ms, true],
    ['CPU ms / run', (j) => j.cpu_ms, true],
    ['CPU µs / point', (j) => j.cpu_us_per_datapoint, true],
    ['CPU µs / point over UDP', (j) => j.cpu_us_per_datapoint_udp, true],
    ['CPU µs / point over UDS', (j) => j.cpu_us_per_datapoint_uds, true],
    ['peak RSS MB (idle)', (j) => j.peak_rss_mb, true],
    ['RSS KB / series above idle', (j) => j.rss_kb_per_series, true],
    ['heap growth MB, run 11 vs 1', (j) => j.heap_growth_mb, false],
    ['datagrams / run', (j) => j.datagrams, true],
    ['bytes / point', (j) => j.bytes_per_datapoint, true],
    ['largest datagram UDP / UDS', (j) => j.max_datagram_bytes, false],
    ['loss UDP % (out-of-process listener)', (j) => j.loss_udp_pct, false],
    ['loss UDS %', (j) => j.loss_uds_pct, false],
    ['freshness p50 s', (j) => j.freshness_p50_s, true],
    ['freshness p99 s', (j) => j.freshness_p99_s, true],
  ];
  const lines = [
    `| figure | dogwatch | overlap (YACE-style) | naive (GetMetricStatistics) | floor (same work) | dogwatch ÷ overlap | dogwatch ÷ naive | dogwatch ÷ floor |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const [label, get, showRatio] of rows) {
    const cell = (j: CollectorJson | undefined): string => {
      if (!j) return '–';
      if (label.startsWith('largest datagram'))
        return `${j.max_datagram_bytes_udp} / ${j.max_datagram_bytes_uds}`;
      if (label.startsWith('peak RSS')) return `${fmt(j.peak_rss_mb, 1)} (${fmt(j.idle_rss_mb, 1)})`;
      if (label.startsWith('cost $/hour')) {
        const v = get(j);
        return v === null || v === undefined ? '–' : usd(v);
      }
      return fmt(get(j));
    };
    const floorGet = Object.entries(floorCell).find(([prefix]) => label.startsWith(prefix))?.[1];
    const floorValue = f && floorGet ? floorGet(f) : undefined;
    const floorRatio = floorValue !== undefined && floorRatioRows.has(label) ? ratio(get(d), floorValue) : '';
    lines.push(
      `| ${label} | ${cell(d)} | ${cell(o)} | ${cell(n)}${n?.extrapolated && ['loss', 'peak', 'RSS', 'heap', 'fresh'].some((k) => label.startsWith(k)) ? '' : ''} | ${label.startsWith('largest') && floorValue !== undefined ? String(floorValue) : fmt(floorValue)} | ${showRatio ? ratio(get(d), get(o)) : ''} | ${showRatio && n ? ratio(get(d), get(n)) : ''} | ${floorRatio} |`,
    );
  }
  lines.push('');
  lines.push(
    `Requests by operation per run — dogwatch: ${reqOps(d)}; overlap: ${reqOps(o)}; naive: ${reqOps(n)}.`,
  );
  if (f)
    lines.push(
      `Floor (\`bench/floor.ts\`): dogwatch's run ${f.captured_run} replayed ${f.runs} times (steady figures from the second): ${fmt(f.requests)} GetMetricData round trips (${fmt(f.request_bytes / 1024, 0)} KB of request and ${fmt(f.response_bytes / 1024, 0)} KB of response bodies, the same bytes), JSON.parse of each response, ${fmt(f.lines_formatted)} lines formatted from the parsed values and ${fmt(f.lines_verbatim)} sent as captured (${fmt(f.captured_lines)} lines and ${fmt(f.captured_datapoints)} points in dogwatch's run), in datagrams of ≤ 1,432 B on a connected UDP socket or ≤ 8,192 B on a unix datagram socket (runs alternating, as dogwatch's); ${fmt(f.received_udp)} of ${fmt(f.sent_udp)} points received over UDP, ${fmt(f.received_uds)} of ${fmt(f.sent_uds)} over UDS, ${f.throttled_retries} throttled calls sent again. **dogwatch ÷ floor, CPU per point: ${s.dogwatch_to_floor_cpu === null || s.dogwatch_to_floor_cpu === undefined ? '–' : `${fmt(s.dogwatch_to_floor_cpu, 2)}×`}**; over UDP ${fmt(d.cpu_us_per_datapoint_udp)} ÷ ${fmt(f.cpu_us_per_datapoint_udp)} µs = ${timesOrDash(s.dogwatch_to_floor_cpu_udp)}, over UDS ${fmt(d.cpu_us_per_datapoint_uds)} ÷ ${fmt(f.cpu_us_per_datapoint_uds)} µs = ${timesOrDash(s.dogwatch_to_floor_cpu_uds)}.`,
    );
  if (n?.extrapolated)
    lines.push(
      `Naive at this size is **extrapolated** linearly from the next smaller size (one GetMetricStatistics per query at its 400/s quota would take ${fmt(
        (s.queries / 400) * 1,
        0,
      )} s per run); requests and cost are exact by construction, time/CPU/bytes scaled, memory and loss not measured.`,
    );
  return lines.join('\n');
}

/**
 * Issue 19's CPU goal against the floor measured in the same run: ≤ 2× at the 100k size, ≤ 3× at 10k
 * (none at 1k, where fixed costs per run dominate). Sizes are told apart by their query count.
 */
function floorBound(queries: number): number | undefined {
  if (queries >= 50_000) return 2;
  if (queries >= 5_000) return 3;
  return undefined;
}

/** The logs section: a real daemon with collect_logs against a ≥ 1 GB/h world (bench/logs.ts). */
export function logsSection(l: LogsResults): string {
  const s = l.stall;
  return [
    '',
    '## Logs (collect_logs)',
    '',
    `A real \`dogwatch run\` with \`collect_logs: true\` on amazon_lambda, ${l.functions} functions whose log groups hold ${l.world_gb_per_simulated_hour} GB per simulated hour; the daemon starts with ${l.lookback_s} s of it (${l.world_events.toLocaleString('en-US')} events) to read and sends to a TCP line counter in another process.`,
    '',
    '| events received | MiB received | wall s | CPU s | events / CPU s | MB/s | peak RSS MB |',
    '| --: | --: | --: | --: | --: | --: | --: |',
    `| ${l.events_received.toLocaleString('en-US')} | ${(l.bytes_received / 1048576).toFixed(1)} | ${l.wall_s} | ${l.cpu_s} | ${l.events_per_cpu_s.toLocaleString('en-US')} | ${(l.bytes_per_s / 1e6).toFixed(1)} | ${l.peak_rss_mb} |`,
    '',
    `Agent that stops reading (after ${s.listener_read_mb} MiB): over ${s.seconds} s, RSS max ${s.rss_mb_first_half_max} MB in the first half, ${s.rss_mb_second_half_max} MB in the second (peak ${s.peak_rss_mb} MB); ${s.bounded ? 'bounded' : 'NOT bounded'}${s.alive ? '' : ', daemon died'}.`,
  ].join('\n');
}

export function renderMarkdown(b: BenchResults): string {
  const out: string[] = [];
  const largest = b.sizes[b.sizes.length - 1]!;
  out.push('# Benchmarks');
  out.push('');
  out.push(
    `Generated by \`npm run bench${b.mode === 'quick' ? ' -- --quick' : ''}\` on ${b.generated.slice(0, 10)} (${b.mode} mode, Node ${b.node}, ${b.elapsed_s} s). ` +
      'Numbers come from a shared 2-core machine: compare columns of the same run, not runs of different days.',
  );
  out.push('');
  out.push('## Setup');
  out.push('');
  out.push(
    "- AWS emulator (`emulator/`) in the orchestrating process: one account, `us-east-1`, the contract's mix of Lambda functions, REST/HTTP/WebSocket APIs and 5 Rekognition operations, scaled; 40 ms added to every call; default quotas (GetMetricData 50/s, GetMetricStatistics 400/s, ListMetrics 25/s); default publication delay (60 s + up to 60 s jitter).\n" +
      "- Each collector in its own process (`--expose-gc`): **dogwatch** through its real runtime (root container, conf.d with the three checks at their defaults, one InstanceRunner per instance, `DogStatsdSink`, watermark journal in a temp dir). Baselines (`bench/collectors.ts`) use the real SDK and collect **exactly dogwatch's planned queries** with the same names and tags, emitting with hot-shots' typed methods, buffered (1,432 B UDP / 8,192 B UDS):\n" +
      '  - **naive**: one GetMetricStatistics per series × statistic per run, cloudwatch_exporter defaults (range 600 s, delay 600 s, newest point), 16 concurrent calls.\n' +
      '  - **overlap**: GetMetricData, 500 queries a request, a 5-minute window ending now re-requested every run, newest point kept (YACE defaults), 5 concurrent calls.\n' +
      '- Virtual clock shared by emulator and collector: a run at T+k×60 s (+ real elapsed time inside the run), 30 s into a minute. Steady-state figures are the mean (wall: median) of runs 2–11; discovery (ListMetrics, Lambda/API Gateway listings, STS, tagging) happens in run 1 and is amortised over the 600 s cache TTL (÷ 10).\n' +
      "- **floor** (`bench/floor.ts`): the machine's floor for dogwatch's work, measured in the same run so that dogwatch ÷ floor holds on a noisy or different machine. One steady dogwatch run (the last over UDS, which loses nothing) is captured: its GetMetricData exchanges inside the emulator, its lines at the UDS listener. The floor replays them in a worker of its own, CPU measured as for dogwatch (`process.cpuUsage` of the worker around each run): the same round trips (node:http, keep-alive agent, the captured request headers and bodies, paced at the 50/s quota; the emulator answers with the captured responses), `JSON.parse` of each response, every line formatted again from the parsed values (lines no response yields, dogwatch's own telemetry, sent as captured), packed in datagrams of ≤ 1,432 B, sent on a connected UDP socket paced like dogwatch's sink. No SDK, signing, request encoding, plan, cursors or delivery accounting.\n" +
      '- DogStatsD listeners: two separate processes, UDP and unix-dgram, OS-default receive buffers; runs alternate UDP, UDS (run 1 UDP). Loss counts timestamped lines received vs sent.\n' +
      '- Cost: GetMetricData $0.01 per 1,000 metrics requested; GetMetricStatistics and ListMetrics $0.01 per 1,000 requests. At 300 s polling every collector makes the same requests 12 times an hour instead of 60.',
  );
  out.push('');
  out.push('## Results');
  for (const s of b.sizes) {
    out.push('');
    out.push(
      `### ${s.queries.toLocaleString('en-US')} queries (${s.series.toLocaleString('en-US')} series; world: ${String(s.world.functions)} functions, ${String(s.world.restApis)} REST + ${String(s.world.httpApis)} HTTP + ${String(s.world.websocketApis)} WebSocket APIs)`,
    );
    out.push('');
    out.push(sizeTable(s));
  }
  if (b.polling_300s.length > 0) {
    out.push('');
    out.push('## Polling every 300 s (1-minute data, smallest size)');
    out.push('');
    out.push('| collector | new points / run | available / run (≈ 5 × a 60 s run) | delivered |');
    out.push('|---|---:|---:|---:|');
    for (const p of b.polling_300s)
      out.push(
        `| ${p.collector} | ${fmt(p.points_per_run)} | ${fmt(p.available_per_run)} | ${fmt(100 * p.delivered_fraction, 1)} % |`,
      );
    out.push('');
    out.push(
      'Keeping only the newest point of each window delivers about 1 point in 5 when polling every 5 periods; dogwatch asks each series for [watermark, end) and emits every period, timestamped, for 1/5 of the 60 s cost.',
    );
  }
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push('| target | measured | met |');
  out.push('|---|---|:-:|');
  const yes = (ok: boolean): string => (ok ? 'yes' : '**no**');
  for (const s of b.sizes) {
    const gmd = s.dogwatch.requests.GetMetricData ?? 0;
    // The minimum for what is asked: emitted queries plus API Gateway's coverage queries (never emitted).
    const askedMin = Math.ceil(s.dogwatch.metrics_requested / 500);
    out.push(
      `| GetMetricData ≤ 1.02 × minimum (${fmt(s.queries)} queries) | ${fmt(gmd)} vs ${s.dogwatch.getmetricdata_min} = ${ratio(gmd, s.dogwatch.getmetricdata_min)} (⌈${fmt(s.dogwatch.metrics_requested)} metrics requested ÷ 500⌉ = ${askedMin}) | ${yes(gmd <= 1.02 * s.dogwatch.getmetricdata_min)} |`,
    );
  }
  {
    const s = largest;
    const bound = 1.25 * (s.dogwatch.getmetricdata_min / 50 + 0.04) * 1000;
    out.push(
      `| ${fmt(s.queries)}-query run ≤ 1.25 × (min requests ÷ 50/s + 40 ms) = ${fmt(bound, 0)} ms | ${fmt(s.dogwatch.wall_ms, 0)} ms (median steady run) | ${yes(s.dogwatch.wall_ms <= bound)} |`,
    );
  }
  const firstRunRow = (label: string, first: number, steady: number, quotaMs: number | undefined): void => {
    if (quotaMs === undefined) return;
    const bound = 2 * steady + quotaMs;
    out.push(
      `| first run (discovery included, ${label}) ≤ 2 × steady run + discovery's quota-bound time = 2 × ${fmt(steady, 0)} + ${fmt(quotaMs, 0)} = ${fmt(bound, 0)} ms | ${fmt(first, 0)} ms = ${ratio(first, bound)} | ${yes(first <= bound)} |`,
    );
  };
  for (const s of b.sizes)
    firstRunRow(
      `${fmt(s.series)} series`,
      s.dogwatch.wall_ms_first_run,
      s.dogwatch.wall_ms,
      s.dogwatch.discovery_quota_ms_first_run,
    );
  if (b.load)
    firstRunRow(
      `${fmt(b.load.series)} series`,
      b.load.wall_ms_first_run,
      b.load.wall_ms_median,
      b.load.discovery_quota_ms_first_run,
    );
  for (const s of b.sizes)
    out.push(
      `| ≤ 10 CPU µs per point end to end (${fmt(s.queries)}) | ${fmt(s.dogwatch.cpu_us_per_datapoint)} µs | ${yes(s.dogwatch.cpu_us_per_datapoint <= 10)} |`,
    );
  for (const s of b.sizes) {
    const bound = floorBound(s.queries);
    if (bound === undefined || !s.floor) continue;
    const x = s.dogwatch_to_floor_cpu ?? null;
    out.push(
      `| CPU per point ≤ ${bound}× floor (${fmt(s.queries)}) | ${fmt(s.dogwatch.cpu_us_per_datapoint)} ÷ ${fmt(s.floor.cpu_us_per_datapoint)} µs = ${x === null ? '–' : `${fmt(x, 2)}×`} | ${x === null ? '–' : yes(x <= bound)} |`,
    );
    for (const [label, y] of [
      ['UDP', s.dogwatch_to_floor_cpu_udp ?? null],
      ['UDS', s.dogwatch_to_floor_cpu_uds ?? null],
    ] as const)
      if (y !== null)
        out.push(`| … over ${label} (${fmt(s.queries)}) | ${fmt(y, 2)}× | ${yes(y <= bound)} |`);
  }
  for (const s of b.sizes)
    out.push(
      `| zero points lost to another process, UDP / UDS (${fmt(s.queries)}) | ${fmt(s.dogwatch.loss_udp_pct, 3)} % / ${fmt(s.dogwatch.loss_uds_pct, 3)} % (${fmt(s.dogwatch.received_udp)} of ${fmt(s.dogwatch.sent_udp)}, ${fmt(s.dogwatch.received_uds)} of ${fmt(s.dogwatch.sent_uds)}) | ${yes(s.dogwatch.loss_udp_pct === 0 && s.dogwatch.loss_uds_pct === 0)} |`,
    );
  for (const s of b.sizes)
    out.push(
      `| ≤ 2 KB RSS per tracked series above idle (${fmt(s.series)} series) | ${fmt(s.dogwatch.rss_kb_per_series)} KB | ${yes((s.dogwatch.rss_kb_per_series ?? Infinity) <= 2)} |`,
    );
  for (const s of b.sizes)
    out.push(
      `| zero heap growth over 10 runs (${fmt(s.queries)}) | ${s.dogwatch.heap_growth_mb === null ? 'not measured (quick mode: 3 runs)' : `${fmt(s.dogwatch.heap_growth_mb, 3)} MB`} | ${s.dogwatch.heap_growth_mb === null ? '–' : yes(s.dogwatch.heap_growth_mb <= 0.25)} |`,
    );
  {
    const maxUdp = Math.max(...b.sizes.map((s) => s.dogwatch.max_datagram_bytes_udp));
    const maxUds = Math.max(...b.sizes.map((s) => s.dogwatch.max_datagram_bytes_uds));
    out.push(
      `| no datagram over its limit (1,432 UDP / 8,192 UDS) | ${maxUdp} / ${maxUds} bytes | ${yes(maxUdp <= 1432 && maxUds <= 8192)} |`,
    );
  }
  if (b.load) {
    const l = b.load;
    const over = `runs 2–${l.runs}`;
    out.push(
      `| no event-loop stall over 200 ms (${fmt(l.series)} series, ${over}) | longest ${fmt(l.event_loop_max_ms, 1)} ms; ${l.runs_over_200ms} runs over | ${yes(l.runs_over_200ms === 0)} |`,
    );
    const trend = rssTrend(l);
    if (trend !== undefined)
      out.push(
        `| RSS flat from run ${STEADY_FROM_RUN} (mean of the last ${trend.half} runs ≤ 1.05 × mean of runs ${STEADY_FROM_RUN}–${STEADY_FROM_RUN + trend.half - 1}) | ${fmt(trend.first, 1)} → ${fmt(trend.last, 1)} MB = ${ratio(trend.last, trend.first)} (range ${fmt(l.rss_mb_steady_min, 1)}–${fmt(l.rss_mb_steady_max, 1)} MB) | ${yes(trend.last <= 1.05 * trend.first)} |`,
      );
    if (l.heap_after_gc_mb_steady !== null && l.heap_after_gc_mb_last !== null) {
      const growth = l.heap_after_gc_mb_last - l.heap_after_gc_mb_steady;
      out.push(
        `| live heap flat from run ${STEADY_FROM_RUN} (heap used after a forced GC, runs ${STEADY_FROM_RUN}–${STEADY_FROM_RUN + 2} vs the last 3: ≤ +2 MB) | ${fmt(l.heap_after_gc_mb_steady, 1)} → ${fmt(l.heap_after_gc_mb_last, 1)} MB (${growth >= 0 ? '+' : ''}${fmt(growth, 2)} MB) | ${yes(growth <= 2)} |`,
      );
    }
    out.push(
      `| no failed run, nothing lost (${fmt(l.series)} series, ${l.runs} runs) | ${l.failures} failed; loss UDP / UDS ${fmt(l.loss_udp_pct, 3)} % / ${fmt(l.loss_uds_pct, 3)} % | ${yes(l.failures === 0 && l.loss_udp_pct === 0 && l.loss_uds_pct === 0)} |`,
    );
  }
  if (b.cpu_profile) {
    const p = b.cpu_profile;
    out.push('');
    out.push(`## Where dogwatch's CPU goes (${fmt(p.datapoints)} points, runs 2–5 at 10k queries)`);
    out.push('');
    out.push(
      `Sampled ${fmt(p.busy_ms)} ms of busy CPU = ${fmt(p.us_per_datapoint)} µs per point (profiler overhead included).`,
    );
    out.push('');
    out.push('| area (self time) | ms | % | µs / point |');
    out.push('|---|---:|---:|---:|');
    for (const i of p.by_area.slice(0, 12))
      out.push(`| ${i.name} | ${fmt(i.ms)} | ${fmt(i.pct, 1)} | ${fmt(i.us_per_datapoint)} |`);
    out.push('');
    out.push('| function (self time) | ms | % | µs / point |');
    out.push('|---|---:|---:|---:|');
    for (const i of p.top_functions.slice(0, 12))
      out.push(
        `| \`${i.name.replace(/\|/g, '\\|')}\` | ${fmt(i.ms)} | ${fmt(i.pct, 1)} | ${fmt(i.us_per_datapoint)} |`,
      );
  }
  if (b.load) {
    const l = b.load;
    out.push('');
    out.push(`## Load: ${fmt(l.series)} series (${fmt(l.queries)} queries), ${l.runs} consecutive runs`);
    out.push('');
    out.push(
      `dogwatch alone in a world of its own (scale 500: ≥ 100,000 series), virtual clock advanced one period per run, runs back to back. ` +
        (l.emulator_nice > 0
          ? `The emulator's thread runs at nice ${l.emulator_nice}: it stands in for AWS, which does not share the collector's cores in production (\`--emulator-nice 0\` measures with it competing). `
          : 'The emulator runs at the same priority as the collector, on the same 2 cores. ') +
        `RSS after run 2: ${fmt(l.rss_mb_first, 1)} MB, after run 11: ${fmt(l.rss_mb_run10, 1)} MB, after run 30: ${fmt(l.rss_mb_run30, 1)} MB, after run ${l.runs}: ${fmt(l.rss_mb_last, 1)} MB (range ${fmt(l.rss_mb_min, 1)}–${fmt(l.rss_mb_max, 1)} MB over runs 2–${l.runs}; peak over the process life, first run included: ${fmt(l.peak_rss_mb, 1)} MB). ` +
        `Heap used after a forced full GC: ${fmt(l.heap_after_gc_mb_run1, 1)} MB after run 1, ${l.heap_after_gc_mb_run11 === null ? '–' : fmt(l.heap_after_gc_mb_run11, 1)} MB after run 11, ${l.heap_after_gc_mb_steady === null ? '–' : fmt(l.heap_after_gc_mb_steady, 1)} MB after runs ${STEADY_FROM_RUN}–${STEADY_FROM_RUN + 2}, ${l.heap_after_gc_mb_last === null ? '–' : fmt(l.heap_after_gc_mb_last, 1)} MB after runs ${l.runs - 2}–${l.runs} (the lowest of three runs in a row, so that none is read during a discovery refresh, when the old plan and the new series list are both alive; run ${STEADY_FROM_RUN} is the first with the first refresh and the 15-minute late horizon behind: until then the state's pending late periods grow to their usual number). ` +
        `Longest event-loop stall (monitorEventLoopDelay, 10 ms resolution) in steady runs: ${fmt(l.event_loop_max_ms, 1)} ms; runs with a stall over 200 ms: ${l.runs_over_200ms} of ${l.runs - 1}; first run (discovery + planning): ${fmt(l.event_loop_max_ms_first_run, 1)} ms. ` +
        `Wall per run: median ${fmt(l.wall_ms_median, 0)} ms, slowest ${fmt(l.wall_ms_max, 0)} ms (first run, discovery included: ${fmt(l.wall_ms_first_run, 0)} ms); CPU median ${fmt(l.cpu_ms_median, 0)} ms; ${fmt(l.points_per_run, 0)} points per run. ` +
        `Failed runs: ${l.failures}. Loss UDP / UDS: ${fmt(l.loss_udp_pct, 3)} % / ${fmt(l.loss_uds_pct, 3)} %${l.sent_udp === undefined ? '' : ` (received ${fmt(l.received_udp)} of ${fmt(l.sent_udp)} points over UDP, ${fmt(l.received_uds)} of ${fmt(l.sent_uds)} over UDS)`}${l.udp_rcvbuf_errors === undefined ? '' : `; the kernel dropped ${fmt(l.udp_rcvbuf_errors)} UDP datagrams at a full receive buffer (a listener behind) and ${fmt(l.udp_sndbuf_errors ?? 0)} at a full send buffer meanwhile (RcvbufErrors, SndbufErrors)`}.`,
    );
    out.push('');
    if (l.stalls_over_200ms.length > 0) {
      out.push(
        `What the stalls over 200 ms were made of (\`bench/stall-attribution.ts\`: gaps between 20 ms ticks; GC = main-thread pauses V8 reported inside the gap; main-thread CPU, GC included, and time waiting for a core, from the thread's schedstat: on a 2-core machine it shares with the emulator, the listeners and its own GC helper threads; asleep is the rest of the gap, idle until the tick was due or blocked in a system call). Longest single GC pause in steady runs: ${fmt(l.gc_max_pause_ms, 1)} ms.`,
      );
      out.push('');
      out.push(
        '| run | stall ms | GC pauses ms (major) | main-thread CPU ms | waiting for a core ms | asleep ms |',
      );
      out.push('|---:|---:|---:|---:|---:|---:|');
      for (const x of l.stalls_over_200ms) {
        // The stall is the gap beyond the 20 ms tick; CPU and waiting were measured over the whole gap.
        const asleep =
          x.cpu_ms === null || x.wait_ms === undefined || x.wait_ms === null
            ? '–'
            : fmt(Math.max(0, x.ms + STALL_TICK_MS - x.cpu_ms - x.wait_ms), 0);
        out.push(
          `| ${x.run} | ${fmt(x.ms, 0)} | ${fmt(x.gc_ms, 0)} (${fmt(x.major_gc_ms, 0)}) | ${x.cpu_ms === null ? '–' : fmt(x.cpu_ms, 0)} | ${x.wait_ms === undefined || x.wait_ms === null ? '–' : fmt(x.wait_ms, 0)} | ${asleep} |`,
        );
      }
      out.push('');
    }
    const windows = memoryWindows(l);
    if (windows.length > 0) {
      out.push(
        `Memory by windows of ${MEMORY_WINDOW_RUNS} runs from run ${STEADY_FROM_RUN} (means of the figures taken after each run): RSS, the part V8 reserved for its heap (heapTotal), and memory outside it (external: Buffers).`,
      );
      out.push('');
      out.push('| runs | RSS MB | V8 heap reserved MB | external MB |');
      out.push('|---|---:|---:|---:|');
      for (const w of windows)
        out.push(`| ${w.from}–${w.to} | ${fmt(w.rss, 1)} | ${fmt(w.heapTotal, 1)} | ${fmt(w.external, 1)} |`);
      out.push('');
    }
    out.push('| run | RSS MB | longest stall ms | GC pauses ms (longest) | major GCs | wall ms | CPU ms |');
    out.push('|---:|---:|---:|---:|---:|---:|---:|');
    l.by_run.forEach((x, i) => {
      if (i < 2 || (i + 1) % 5 === 0 || i === l.by_run.length - 1)
        out.push(
          `| ${i + 1} | ${fmt(x.rss_mb, 1)} | ${fmt(x.event_loop_max_ms, 1)} | ${fmt(x.gc_total_ms, 0)} (${fmt(x.gc_max_pause_ms, 1)}) | ${x.major_gcs} | ${fmt(x.wall_ms, 0)} | ${fmt(x.cpu_ms, 0)} |`,
        );
    });
  }
  out.push('');
  out.push('## Why targets are missed (from full-run measurements)');
  out.push('');
  out.push(
    "- **GetMetricData vs minimum**: the three instances (Lambda, API Gateway, Rekognition) run together and put their partly filled batches into shared requests (core/cloudwatch/shared-metric-requests.ts), so a steady run makes ⌈queries ÷ 500⌉ requests per window end; a first run, whose discoveries take different times, may send a partial batch alone after waiting 1 s. API Gateway's coverage queries (stage totals fetched to check detailed metrics, never emitted) add ~0.75 % to metrics requested.\n" +
      "- **CPU per point**: the GetMetricData JSON now goes through dogwatch's own codec (`core/aws/lean-cloudwatch-codec.ts`) instead of the SDK's schema-driven serde, which made ~60 % of everything the process allocated; at 10k and 100k queries dogwatch now spends less CPU per point than the YACE-style baseline making the same calls through the SDK. What is left is signing, HTTP, the SDK's middleware stack per call, DogStatsD encoding and socket sends, and GC: 10 µs end to end would need fewer, larger socket writes and fewer objects per point still.\n" +
      "- **CPU per point against the floor**: the floor does the same round trips, parse, lines and datagrams with nothing else; what dogwatch does beyond it is encoding each request and signing it, the SDK's middleware per call, the cursor store, delivery accounting and the sink's confirmation, and the garbage of all of it (issue 19 has a profile by module; closing the gap is that issue's optimisation part).\n" +
      '- **Memory**: peak RSS is taken over the whole process life, including the first run (discovery, plan building, a whole run of lines queued in the sink); per-series figures at small sizes are dominated by fixed costs (the SDK, the runtime). State ids are now 24 characters (region + 96-bit hash) instead of the ~100-character query key, and discovery interns repeated strings.\n' +
      '- **Heap growth**: measured after run 11, which coincides with the first discovery refresh (600 s TTL): the refreshed series list and the plan built from the previous one are alive together at that moment.\n' +
      '- **History**: the first full run of this benchmark found the engine waiting for each batch to leave the socket before fetching the next (100k runs took 8 s over UDP) and rewriting the whole state every run; both were fixed (fetching now runs up to 8 batches ahead of the sink, and state is compacted only when the journal outgrows it), which brought the 100k run to 4.3 s and UDP loss to 0.',
  );
  if (b.load) out.push(loadFindings(b.load));
  if (b.logs) out.push(logsSection(b.logs));
  if (b.cli_cost) out.push(cliCostSection(b.cli_cost));
  out.push('');
  out.push('## Reproduce');
  out.push('');
  out.push('```sh');
  out.push(
    'npm run bench                 # full: 1k, 10k, 100k (< 10 min on 2 cores); writes bench-results.json + BENCHMARKS.md',
  );
  out.push('npm run bench -- --quick      # 1k and 10k, 3 runs each (< 60 s)');
  out.push(
    'npm run bench -- --logs-only  # the Logs section alone (~3 min): its JSON; part of a full run, skipped by --quick',
  );
  out.push(
    'npm run bench -- --load       # full, then 60 consecutive dogwatch runs at ≥ 100,000 series for the Load section (~30 min)',
  );
  out.push(
    'npm run bench -- --focus 10k,100k [--focus-profile | --focus-allocations] [--focus-transport uds]  # dogwatch and its floor only, a line per size (an optimisation loop; no page)',
  );
  out.push(
    'npx tsc -p tsconfig.json --outDir dist-bench && node dist-bench/bench/run.js --quick --out /tmp/b.json --no-md',
  );
  out.push('```');
  out.push('');
  out.push(
    'JSON (`--out`, default `bench-results.json`): `sizes[]` with `queries`, `series`, and per collector (`dogwatch`, `naive`, `overlap`) `requests` (per run, by operation; discovery amortised ÷ 10), `getmetricdata_min`, `metrics_requested`, `datapoints`, `wall_ms`, `cpu_ms`, `cpu_us_per_datapoint`, `peak_rss_mb`, `heap_growth_mb`, `datagrams`, `bytes`, `max_datagram_bytes`, `received_udp`, `received_uds` (timestamped lines received over the whole worker; compare `sent_udp`/`sent_uds`), `freshness_p50_s`, `freshness_p99_s`, `cost_usd_per_hour_60s`, `cpu_us_per_datapoint_udp` / `_uds` (steady runs of one transport); per size also `floor` (`cpu_us_per_datapoint`, `cpu_ms`, `datapoints`, `requests`, `request_bytes`, `response_bytes`, `lines_formatted`, `lines_verbatim`, `datagrams`, `received_udp`, `captured_run`, …) and `dogwatch_to_floor_cpu` (dogwatch ÷ floor, CPU per point; `_udp` / `_uds` per transport, beside the floor `cpu_us_per_datapoint_udp` / `_uds`); plus extra keys documented in `bench/report.ts`.',
  );
  out.push('');
  return out.join('\n');
}

/** Mean RSS of the first and the second half of runs STEADY_FROM_RUN.. (undefined with fewer than 20). */
function rssTrend(
  l: NonNullable<BenchResults['load']>,
): { first: number; last: number; half: number } | undefined {
  const steady = l.by_run.slice(STEADY_FROM_RUN - 1).map((r) => r.rss_mb);
  if (steady.length < 20) return undefined;
  const half = Math.floor(steady.length / 2);
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { first: mean(steady.slice(0, half)), last: mean(steady.slice(steady.length - half)), half };
}

/** The load section's findings, as far as this run's figures support them. */
function loadFindings(l: NonNullable<BenchResults['load']>): string {
  const stalls =
    l.runs_over_200ms === 0
      ? `no stall over 200 ms (longest ${fmt(l.event_loop_max_ms, 0)} ms; longest single GC pause ${fmt(l.gc_max_pause_ms, 0)} ms)`
      : `${l.runs_over_200ms} of ${l.runs - 1} runs had a stall over 200 ms (longest ${fmt(l.event_loop_max_ms, 0)} ms; split into GC, main-thread CPU and time not running in the Load section)`;
  return (
    `- **Load (${fmt(l.series)} series, ${l.runs} runs)**: ${l.failures} failed runs; ${stalls}. ` +
    "Discovery refreshes (every ~10 runs at the 600 s TTL) were the expensive runs: ListMetrics read through the SDK's generic deserializer and a whole new plan of 265,000 queries built next to the old one, 5–8 s of extra CPU per refresh run, and garbage that V8 answered by growing its heap reservation, which is why RSS rose through the first hour (478 → 517 → 542 MB by 15-run windows in the full run before, 2026-11-29; a 120-run measurement then showed it levelling at ~540 MB). " +
    "Now ListMetrics pages go through the lean codec, a series found again is the same object, and a rebuild keeps every query whose series, rows and tags did not change: in a 14-run measurement (2026-11-29) the two refresh runs took 7.6 and 7.9 s of CPU where they had taken 17.3 and 14.0 s with a CPU profiler attached (about +25 %: ~14 and ~11 s without), against ~6 s for a run without a refresh, and V8's reserved heap after them was 309 MB instead of 421 MB. " +
    "The one stall over 200 ms measured right after that change (226 ms in a rebuild run, 160 ms of it main-thread CPU) was the rebuild indexing the previous plan's 265,000 queries in one go (~130 ms alone, measured apart) and discovery indexing the previous 100,000 series (~50 ms); both now yield every 5,000. With that, two more 60-run measurements (2026-11-29): a full run with 1 of 59 runs over 200 ms (221 ms: 90 ms of main-thread CPU, 31 ms of it GC, the rest not running, before waiting for a core and asleep were told apart), RSS 464 → 494 → 474 MB by 15-run windows (trend 1.01×) and 0.001 % of the UDP lines lost (0 over UDS); and a load-only run with none over 200 ms (longest 181 ms), RSS 473 → 472 → 474 MB (1.00×) and nothing lost. " +
    "Earlier, about half of each stall over 200 ms was the collector's thread runnable but not running on 2 cores shared with the emulator, which now runs at nice 10 (`--emulator-nice 0` measures with it competing). " +
    "RSS moves with V8's heap sizing between runs (it returns memory lazily), so the trend, not single runs, is what the RSS target checks; the live heap after a forced GC is the leak test."
  );
}

const MEMORY_WINDOW_RUNS = 15;

/** Mean memory figures per window of MEMORY_WINDOW_RUNS runs from STEADY_FROM_RUN (whole windows only). */
function memoryWindows(
  l: NonNullable<BenchResults['load']>,
): { from: number; to: number; rss: number; heapTotal: number; external: number }[] {
  const out = [];
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (
    let from = STEADY_FROM_RUN;
    from + MEMORY_WINDOW_RUNS - 1 <= l.by_run.length;
    from += MEMORY_WINDOW_RUNS
  ) {
    const runs = l.by_run.slice(from - 1, from - 1 + MEMORY_WINDOW_RUNS);
    // Results written before heapTotal and external were recorded have neither.
    if (runs.some((r) => r.heap_total_mb === undefined)) return [];
    out.push({
      from,
      to: from + MEMORY_WINDOW_RUNS - 1,
      rss: mean(runs.map((r) => r.rss_mb)),
      heapTotal: mean(runs.map((r) => r.heap_total_mb)),
      external: mean(runs.map((r) => r.external_mb)),
    });
  }
  return out;
}
