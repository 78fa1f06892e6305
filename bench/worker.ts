/**
 * One collector in its own process (started by bench/run.ts with --expose-gc): dogwatch through its
 * real runtime path (root container, conf.d, InstanceRunner per instance, DogStatsdSink), or a
 * baseline (bench/collectors.ts). The AWS emulator lives in the parent; before each run the worker
 * tells the parent the virtual time, so both read the same clock, and after each run it asks the
 * parent for the emulator's accounting of that run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import type { StatsD } from 'hot-shots';
import { builtinChecksModule } from '../checks/index.js';
import type { CheckDefinition } from '../core/check/check.js';
import { type Clock, ScaledClock } from '../core/clock.js';
import type { CloudWatchEngine } from '../core/cloudwatch/cloudwatch-engine.js';
import { loadConfd } from '../core/config/confd-loader.js';
import { loadDaemonSettings } from '../core/config/daemon-settings.js';
import { secretResolverFor } from '../core/config/secret-resolver.js';
import { checkDefinitions, createRootContainer } from '../core/container.js';
import { createSilentLogger } from '../core/log/logger.js';
import { InstanceRunner } from '../core/runtime/instance-runner.js';
import { boundHeapGrowth } from '../core/runtime/node-support.js';
import { SelfTelemetry } from '../core/runtime/self-telemetry.js';
import { DogStatsdSink } from '../core/sink/dogstatsd-sink.js';
import type { Delivery } from '../core/sink/delivery.js';
import type { Sample } from '../core/sink/samples.js';
import { emptySinkStats, type Sink, type SinkStats } from '../core/sink/sink.js';
import { StatusRegistry } from '../core/status/status-registry.js';
import { SelfTelemetryToken } from '../core/tokens.js';
import {
  BaselineCollector,
  type BaselineQuery,
  discover,
  type EmitCounters,
  makeCloudWatchClient,
  makeStatsd,
} from './collectors.js';
import { buildFloorWork, type CapturedExchange, FloorCollector, type FloorRunCounters } from './floor.js';
import {
  type AccountingReply,
  type FloorSetup,
  type ParentMessage,
  type RunRecord,
  STEADY_FROM_RUN,
  type Transport,
  type WorkerConfig,
  type WorkerMessage,
  type WorkerResult,
} from './protocol.js';
import { StallAttributor } from './stall-attribution.js';

const REGION = 'us-east-1';
const MB = 1024 * 1024;

// ---- IPC ------------------------------------------------------------------------------------------

let nextId = 0;
const pending = new Map<number, (body: unknown) => void>();
function send(message: WorkerMessage): void {
  process.send!(message);
}
function call<T>(
  message:
    | { type: 'clock'; realOrigin: number; virtualOrigin: number }
    | { type: 'accounting' }
    | { type: 'capture'; on: boolean },
): Promise<T> {
  const id = ++nextId;
  return new Promise((resolve) => {
    pending.set(id, resolve as (body: unknown) => void);
    send({ ...message, id });
  });
}
process.on('message', (message: ParentMessage) => {
  if (message.type === 'reply') {
    pending.get(message.id)?.(message.body);
    pending.delete(message.id);
  } else if (message.type === 'start') {
    main(message.config).then(
      (result) => {
        send({ type: 'result', result });
        process.disconnect();
      },
      (error: unknown) => {
        send({
          type: 'fatal',
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
        process.disconnect();
      },
    );
  }
});

// ---- measurement helpers --------------------------------------------------------------------------

/** Virtual time: set per run to a ScaledClock(speed 1) the parent's emulator copies. */
class BenchClock implements Clock {
  current: Clock = new ScaledClock(Date.now(), Date.now(), 1);
  now(): number {
    return this.current.now();
  }
  monotonic(): number {
    return this.current.monotonic();
  }
}

/** Freshness ages in 0.5 s buckets up to 4,000 s: constant memory whatever the run count. */
class AgeHistogram {
  private readonly buckets = new Uint32Array(8001);
  private total = 0;
  record(ageSeconds: number): void {
    const i = Math.min(8000, Math.max(0, Math.round(ageSeconds * 2)));
    this.buckets[i]!++;
    this.total++;
  }
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const target = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= target) return i / 2;
    }
    return 8000 / 2;
  }
}

/**
 * The sink dogwatch's runtime is given: forwards to the UDP or the UDS DogStatsdSink of the current
 * run, counting timestamped metric samples (CloudWatch points) and their age at submission.
 */
class SwitchSink implements Sink {
  target: DogStatsdSink;
  points = 0;
  constructor(
    readonly udp: DogStatsdSink,
    readonly uds: DogStatsdSink,
    private readonly clock: Clock,
    private readonly ages: AgeHistogram,
  ) {
    this.target = udp;
  }
  private observe(sample: Sample): void {
    if (sample.kind === 'metric' && sample.timestamp !== undefined) {
      this.points++;
      this.ages.record(this.clock.now() / 1000 - (sample.timestamp + 60));
    }
  }
  get maxLineBytes(): number {
    return this.target.maxLineBytes;
  }
  submit(sample: Sample, delivery?: Delivery): void {
    this.observe(sample);
    this.target.submit(sample, delivery);
  }
  flush(): Promise<void> {
    return this.target.flush();
  }
  async close(): Promise<void> {
    await Promise.all([this.udp.close(), this.uds.close()]);
  }
  stats(): SinkStats {
    const a = this.udp.stats();
    const b = this.uds.stats();
    const sum = emptySinkStats();
    for (const k of Object.keys(sum) as (keyof SinkStats)[]) sum[k] = a[k] + b[k];
    sum.maxDatagramBytes = Math.max(a.maxDatagramBytes, b.maxDatagramBytes);
    return sum;
  }
}

function memoryFigures(): Pick<RunRecord, 'rssMb' | 'heapTotalMb' | 'externalMb'> {
  const m = process.memoryUsage();
  return { rssMb: m.rss / MB, heapTotalMb: m.heapTotal / MB, externalMb: m.external / MB };
}

function liveHeapMb(): number {
  gc();
  return process.memoryUsage().heapUsed / MB;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

// ---- dogwatch's runtime ---------------------------------------------------------------------------

interface DogwatchRuntime {
  runners: InstanceRunner[];
  dispose(): Promise<void>;
}

function engineOf(runner: InstanceRunner): CloudWatchEngine {
  // The runner keeps its check private: read here only for the plan the baselines share.
  return (runner as unknown as { check: { engine: CloudWatchEngine } }).check.engine;
}

/** One instance of every check the container knows, on the emulator, polled every `pollSeconds`. */
function writeConfd(confd: string, config: WorkerConfig, checks: readonly CheckDefinition[]): void {
  for (const { name } of checks) {
    mkdirSync(join(confd, `${name}.d`), { recursive: true });
    writeFileSync(
      join(confd, `${name}.d`, 'conf.yaml'),
      `init_config:\n\ninstances:\n  - regions: [${REGION}]\n    endpoint_url: ${config.endpoint}\n    min_collection_interval: ${config.pollSeconds}\n`,
    );
  }
}

async function buildDogwatch(config: WorkerConfig, clock: Clock, sink: Sink): Promise<DogwatchRuntime> {
  const confd = join(config.workdir, 'conf.d');
  const settings = loadDaemonSettings({
    flags: { confd, stateDir: join(config.workdir, 'state'), statusAddr: 'off' },
    env: { DD_DOGSTATSD_URL: `udp://127.0.0.1:${config.udpPort}` },
    readFile: () => undefined,
  });
  const logger = createSilentLogger();
  const status = new StatusRegistry();
  const container = createRootContainer({
    clock,
    logger,
    status,
    stateDir: settings.stateDir,
    modules: [builtinChecksModule],
  });
  const definitions = checkDefinitions(container);
  writeConfd(confd, config, definitions);
  const telemetry = new SelfTelemetry(sink, settings.tags);
  container.bind(SelfTelemetryToken).toConstantValue(telemetry);
  const { instances, problems } = await loadConfd({
    confdDir: confd,
    definitions,
    env: process.env,
    secretResolver: secretResolverFor(settings.secretBackend),
  });
  if (problems.length > 0) throw new Error(`conf.d problems: ${problems.map(String).join('; ')}`);
  const runners = instances.map(
    (instance) =>
      new InstanceRunner({
        instance,
        root: container,
        sink,
        status,
        logger,
        globalTags: settings.tags,
        runTimeoutMs: 600_000,
        telemetry,
      }),
  );
  return {
    runners,
    dispose: async () => {
      for (const r of runners) await r.dispose();
      await container.unbindAllAsync();
    },
  };
}

/** dogwatch's plan (the engine's cached per-region plans), as plain queries. */
function planOf(runners: readonly InstanceRunner[]): BaselineQuery[] {
  const out: BaselineQuery[] = [];
  for (const runner of runners) {
    const engine = engineOf(runner);
    for (const plan of engine.plans().values()) {
      for (const q of plan.queries) {
        if (!q.emitted) continue;
        out.push({
          key: q.id,
          namespace: engine.namespace,
          metricName: q.series.metricName,
          dimensions: q.series.dimensions.map((d) => ({ Name: d.Name, Value: d.Value })),
          statistic: q.statistic,
          rows: q.rows.map((r) => ({ name: r.metricName, type: r.type === 'count' ? 'count' : 'gauge' })),
          tags: [...q.tags.tags],
        });
      }
    }
  }
  return out;
}

/**
 * dogwatch's plan (read-only, after the first run): counts, and the queries the baselines collect,
 * written to `path`. A function of its own so that the copy (~50 MB at 100k queries) is garbage once
 * written: held in a variable of `main`, it stayed alive in the suspended async frame for every run and
 * was counted (and marked by every major GC) as dogwatch's.
 */
function writePlan(runners: readonly InstanceRunner[], path: string): { queries: number; series: number } {
  const plan = planOf(runners);
  writeFileSync(path, JSON.stringify(plan));
  return {
    queries: plan.length,
    series: new Set(plan.map((q) => `${q.namespace}|${q.metricName}|${JSON.stringify(q.dimensions)}`)).size,
  };
}

// ---- main -----------------------------------------------------------------------------------------

async function main(config: WorkerConfig): Promise<WorkerResult> {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_REGION: REGION,
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_ENDPOINT_URL;

  const clock = new BenchClock();
  const ages = new AgeHistogram();
  const errors: string[] = [];
  const setClock = async (virtualOrigin: number): Promise<void> => {
    const realOrigin = Date.now();
    clock.current = new ScaledClock(realOrigin, virtualOrigin, 1);
    await call({ type: 'clock', realOrigin, virtualOrigin });
  };
  const accounting = (): Promise<AccountingReply> => call<AccountingReply>({ type: 'accounting' });

  const logger = createSilentLogger();
  let sink: SwitchSink | undefined;
  let dogwatch: DogwatchRuntime | undefined;
  let baseline: BaselineCollector | undefined;
  let floor: FloorCollector | undefined;
  let floorSetup: Omit<FloorSetup, 'throttledRetries'> | undefined;
  const floorCounters: FloorRunCounters = {
    points: 0,
    datagrams: 0,
    bytes: 0,
    maxDatagramBytes: 0,
    throttledRetries: 0,
  };
  const statsd: Record<Transport, StatsD | undefined> = { udp: undefined, uds: undefined };
  const emitCounters: EmitCounters = { points: 0, distinct: 0, datagrams: 0, bytes: 0, maxDatagramBytes: 0 };
  let queries = 0;
  let series = 0;

  await setClock(config.t0);
  if (config.collector === 'dogwatch') {
    // As `dogwatch run` does (see node-support.ts): the product's heap, measured as it runs.
    boundHeapGrowth();
    sink = new SwitchSink(
      new DogStatsdSink({ transport: 'udp', host: '127.0.0.1', port: config.udpPort, logger }),
      new DogStatsdSink({ transport: 'uds', path: config.udsPath, logger }),
      clock,
      ages,
    );
    dogwatch = await buildDogwatch(config, clock, sink);
  } else if (config.collector === 'floor') {
    if (!config.capture) throw new Error('the floor needs a captured dogwatch run (WorkerConfig.capture)');
    const plan = JSON.parse(readFileSync(config.planPath, 'utf8')) as BaselineQuery[];
    queries = plan.length;
    series = new Set(plan.map((q) => `${q.namespace}|${q.metricName}|${JSON.stringify(q.dimensions)}`)).size;
    const exchanges = JSON.parse(readFileSync(config.capture.exchangesPath, 'utf8')) as CapturedExchange[];
    const lines = readFileSync(config.capture.linesPath, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0);
    const work = buildFloorWork(exchanges, plan, lines);
    floorSetup = {
      requests: work.requests.length,
      requestBytes: work.requestBytes,
      responseBytes: work.responseBytes,
      linesFormatted: work.linesFormatted,
      linesVerbatim: work.verbatim.length,
    };
    const unexplained = work.verbatim.find((line) => line.includes('|T'));
    send({
      type: 'progress',
      text: `floor: ${work.requests.length} requests, ${work.linesFormatted} lines formatted from responses, ${work.verbatim.length} as captured${unexplained === undefined ? '' : ` (a point no response explains: ${unexplained})`}`,
    });
    await accounting();
    floor = await FloorCollector.open(work, config.endpoint, config.udpPort, config.udsPath);
  } else {
    // Exactly the queries dogwatch planned (same names, tags), written by the dogwatch worker.
    const plan = JSON.parse(readFileSync(config.planPath, 'utf8')) as BaselineQuery[];
    queries = plan.length;
    series = new Set(plan.map((q) => `${q.namespace}|${q.metricName}|${JSON.stringify(q.dimensions)}`)).size;
    await accounting(); // planning's calls are not the baseline's
    const client = makeCloudWatchClient(config.endpoint);
    baseline = new BaselineCollector(config.collector, client, plan, () => clock.now());
    statsd.udp = makeStatsd('udp', { port: config.udpPort, path: config.udsPath }, emitCounters);
    statsd.uds = makeStatsd('uds', { port: config.udpPort, path: config.udsPath }, emitCounters);
  }

  gc();
  const idleRssMb = process.memoryUsage.rss() / MB;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const stalls = new StallAttributor();
  const runs: RunRecord[] = [];
  const sentPoints: Record<Transport, number> = { udp: 0, uds: 0 };
  let heapAfterFirstMb = 0;
  let heapAfterTenthMb: number | null = null;
  let heapAfterSteadyMb: number | null = null;
  let heapAfterLastMb: number | null = null;
  let session: Session | undefined;

  for (let index = 0; index < config.runs; index++) {
    const transport: Transport =
      config.transports === 'alternate' ? (index % 2 === 1 ? 'uds' : 'udp') : config.transports;
    if (index === 1 && config.profilePath) {
      session = new Session();
      session.connect();
      if (config.profilePath.endsWith('.heapprofile')) {
        // Allocation sampling (what the steady runs allocate, by function), not CPU.
        await session.post('HeapProfiler.enable');
        await session.post('HeapProfiler.startSampling', {
          samplingInterval: 16_384,
          // Everything allocated, not only what is still alive at the end.
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
      } else {
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 250 });
        await session.post('Profiler.start');
      }
    }
    await setClock(config.t0 + index * config.pollSeconds * 1000);
    const counted = (): { points: number; datagrams: number; bytes: number; maxDatagramBytes: number } =>
      sink ? { ...sink.stats(), points: sink.points } : floor ? { ...floorCounters } : { ...emitCounters };
    const before = { points: counted().points, distinct: emitCounters.distinct, stats: counted() };
    const captured = index === config.captureRun;
    if (captured) await call({ type: 'capture', on: true });
    loop.reset();
    stalls.begin();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let failures = 0;
    if (dogwatch && sink) {
      sink.target = transport === 'udp' ? sink.udp : sink.uds;
      const outcomes = await Promise.all(dogwatch.runners.map((r) => r.run()));
      await sink.flush();
      for (const o of outcomes)
        if (!o.ok) {
          failures++;
          if (errors.length < 5) errors.push(`run ${index}: ${o.error ?? '?'}`);
        }
    } else if (floor) {
      await floor.run(floorCounters, transport);
    } else if (baseline) {
      const f0 = baseline.failures;
      await baseline.run(statsd[transport]!, emitCounters, (age) => ages.record(age));
      failures = baseline.failures - f0;
      if (failures > 0 && errors.length < 5) errors.push(`run ${index}: ${failures} failed calls`);
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const eventLoopMaxMs = loop.max / 1e6;
    if (captured) await call({ type: 'capture', on: false });
    const acct = await accounting();
    const gcFigures = stalls.takeRun();
    const afterStats = counted();
    const points = afterStats.points - before.points;
    sentPoints[transport] += points;
    if (index === 0 && dogwatch) ({ queries, series } = writePlan(dogwatch.runners, config.planPath));
    if (index === 0 && baseline) {
      // Discovery like the real tools do it: ListMetrics of the namespaces, once per TTL.
      await discover(makeCloudWatchClient(config.endpoint), [
        'AWS/Lambda',
        'AWS/ApiGateway',
        'AWS/Rekognition',
      ]);
      const extra = await accounting();
      for (const [op, n] of Object.entries(extra.requests)) acct.requests[op] = (acct.requests[op] ?? 0) + n;
    }
    runs.push({
      index,
      transport,
      wallMs,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      points,
      distinctPoints: dogwatch || floor ? points : emitCounters.distinct - before.distinct,
      datagrams: afterStats.datagrams - before.stats.datagrams,
      bytes: afterStats.bytes - before.stats.bytes,
      maxDatagramBytes: afterStats.maxDatagramBytes,
      requests: acct.requests,
      metricsRequested: acct.metricsRequested,
      discoveryQuotaMs: acct.discoveryQuotaMs,
      ...memoryFigures(),
      eventLoopMaxMs,
      gc: gcFigures,
      failures,
    });
    if (config.heapSnapshotRuns) {
      gc();
      (runs[runs.length - 1] as { heapAfterGcMb?: number }).heapAfterGcMb =
        process.memoryUsage().heapUsed / MB;
      if (config.heapSnapshotRuns.includes(index + 1))
        writeHeapSnapshot(join(config.heapSnapshotDir ?? config.workdir, `run${index + 1}.heapsnapshot`));
    }
    // Live heap: after a forced full GC. The steady and last figures are the lowest of three runs in a
    // row, so that neither is read in the middle of a discovery refresh (old plan and new series alive).
    const longLoad = config.runs > STEADY_FROM_RUN + 5;
    if (index === 0) heapAfterFirstMb = liveHeapMb();
    else if (index === 10) heapAfterTenthMb = liveHeapMb();
    else if (longLoad && index >= STEADY_FROM_RUN - 1 && index < STEADY_FROM_RUN + 2)
      heapAfterSteadyMb = Math.min(heapAfterSteadyMb ?? Infinity, liveHeapMb());
    else if (longLoad && index >= config.runs - 3)
      heapAfterLastMb = Math.min(heapAfterLastMb ?? Infinity, liveHeapMb());
    else if (index === config.runs - 1 && index > 10) heapAfterLastMb = liveHeapMb();
    send({
      type: 'progress',
      text: `${config.collector} run ${index + 1}/${config.runs} ${transport}: ${Math.round(wallMs)} ms, ${points} points`,
    });
  }
  if (session && config.profilePath) {
    const { profile } = config.profilePath.endsWith('.heapprofile')
      ? await session.post('HeapProfiler.stopSampling')
      : await session.post('Profiler.stop');
    writeFileSync(config.profilePath, JSON.stringify(profile));
    session.disconnect();
  }
  loop.disable();
  stalls.stop();
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  if (dogwatch) await dogwatch.dispose();
  if (sink) await sink.close();
  floor?.close();
  for (const c of Object.values(statsd))
    await new Promise<void>((resolve) => (c ? c.close(() => resolve()) : resolve()));
  return {
    collector: config.collector,
    queries,
    series,
    idleRssMb,
    peakRssMb,
    heapAfterFirstMb,
    heapAfterTenthMb,
    heapAfterSteadyMb,
    heapAfterLastMb,
    runs,
    freshnessP50: ages.quantile(0.5),
    freshnessP99: ages.quantile(0.99),
    sentPoints,
    errors,
    ...(floorSetup ? { floor: { ...floorSetup, throttledRetries: floorCounters.throttledRetries } } : {}),
  };
}
