/**
 * What a Lambda function's log group holds, minute by minute, consistent with the world's CloudWatch
 * metrics: one invocation per Invocations sample of the minute, each with exactly four lines (START, an
 * application line, END, REPORT in the Text format; platform.start, an application record,
 * platform.runtimeDone and platform.report in the JSON format), durations taken from the minute's Duration
 * statistics (the first invocation lasts the Maximum, the others sum to the rest of the Sum), and the
 * minute's Errors as failed invocations, some of them timeouts and out-of-memory kills. Every invocation's
 * truth (`lambdaInvocations`) is public, so that enhanced metrics parsed from the REPORT lines can be checked
 * against it, and through it against the CloudWatch series.
 */
import { hashString, mix, unit4 } from './prng.js';
import type { LambdaFunction, World } from './world.js';

const MINUTE = 60_000;

export type InvocationOutcome = 'success' | 'error' | 'timeout' | 'out_of_memory';

/** One invocation as the world knows it. */
export interface LambdaInvocation {
  readonly requestId: string;
  readonly startMs: number;
  /** Milliseconds, with the REPORT line's two decimals. */
  readonly durationMs: number;
  readonly billedDurationMs: number;
  readonly memorySizeMb: number;
  readonly maxMemoryUsedMb: number;
  /** Set on a cold start: the first invocation of a new execution environment (a new log stream). */
  readonly initDurationMs?: number;
  readonly outcome: InvocationOutcome;
  readonly logStreamName: string;
}

/** A function's LoggingConfig as ListFunctions returns it. */
export interface LambdaLoggingConfig {
  readonly LogFormat: 'Text' | 'JSON';
  readonly LogGroup: string;
}

/** One log line before it has an id and an ingestion time. */
export interface LogLine {
  readonly timestamp: number;
  readonly logStreamName: string;
  readonly message: string;
}

/**
 * Every third function logs JSON, every fifth (of the others) to a custom group of its own; Lambda@Edge
 * functions keep the defaults (their replicas log to `/aws/lambda/us-east-1.<name>` where they run).
 */
export function lambdaLoggingConfig(world: World, fn: LambdaFunction): LambdaLoggingConfig {
  const h = mix(world.seed, hashString(fn.arn), 0x10c);
  if (fn.isEdgeMaster) return { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` };
  return {
    LogFormat: h % 3 === 1 ? 'JSON' : 'Text',
    LogGroup: h % 5 === 2 ? `/custom/lambda/${fn.name}` : `/aws/lambda/${fn.name}`,
  };
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

function hex(h: number, width: number): string {
  return (h >>> 0).toString(16).padStart(8, '0').slice(-width);
}

function uuid(a: number, b: number): string {
  const c = mix(a, b, 1);
  const d = mix(a, b, 2);
  return `${hex(a, 8)}-${hex(b, 4)}-4${hex(c, 3)}-8${hex(c >>> 12, 3)}-${hex(d, 8)}${hex(d >>> 16, 4)}`;
}

/**
 * The durations of a minute's n invocations: the first lasts `max`, the others are spread evenly
 * around the mean of the rest of the sum, within [min, max]; so their sum is the Duration Sum.
 */
export function spreadDurations(n: number, sum: number, min: number, max: number): number[] {
  if (n <= 0) return [];
  if (n === 1) return [sum];
  const mean = (sum - max) / (n - 1);
  const half = (n - 2) / 2;
  const room = Math.max(0, Math.min(mean - min, max - mean));
  const step = half > 0 ? room / half : 0;
  return [max, ...Array.from({ length: n - 1 }, (_, j) => mean + (j - half) * step)];
}

/** The world's series value of `metric` for the function over one minute, if any. */
function minuteStat(
  world: World,
  fn: { account: string; region: string },
  name: string,
  metric: string,
  minuteMs: number,
) {
  const series = world.find(fn.account, fn.region, 'AWS/Lambda', metric, { FunctionName: name });
  return series ? world.datapoint(series, minuteMs, 60) : undefined;
}

/** The execution environment (log stream) of a minute: a new one every 5 to 16 minutes, a cold start each. */
function environment(world: World, functionArn: string, minute: number): { stream: string; cold: boolean } {
  const h = mix(world.seed, hashString(functionArn), 0xc01d);
  const every = 5 + (h % 12);
  const started = minute - ((((minute - (h % every)) % every) + every) % every);
  const day = new Date(started * MINUTE).toISOString().slice(0, 10).replace(/-/g, '/');
  const id = mix(h, started);
  return {
    stream: `${day}/[$LATEST]${hex(id, 8)}${hex(mix(id, 1), 8)}${hex(mix(id, 2), 8)}${hex(mix(id, 3), 8)}`,
    cold: started === minute,
  };
}

/**
 * The invocations that started in the minute beginning at `minuteMs` of the function that `name`
 * names in CloudWatch (a Lambda@Edge replica: `us-east-1.<name>`), with `fn`'s configuration.
 */
export function lambdaInvocations(
  world: World,
  fn: LambdaFunction,
  name: string,
  location: { account: string; region: string },
  minuteMs: number,
): LambdaInvocation[] {
  const invocations = minuteStat(world, location, name, 'Invocations', minuteMs);
  const n = Math.round(invocations?.Sum ?? 0);
  if (n === 0) return [];
  const duration = minuteStat(world, location, name, 'Duration', minuteMs);
  const errors = Math.min(n, Math.round(minuteStat(world, location, name, 'Errors', minuteMs)?.Sum ?? 0));
  const durations = duration
    ? spreadDurations(n, duration.Sum, duration.Minimum, duration.Maximum)
    : Array.from({ length: n }, () => 10);
  const minute = Math.floor(minuteMs / MINUTE);
  const seed = mix(world.seed, hashString(`${location.account}|${location.region}|${name}`), minute);
  const env = environment(world, `${location.account}|${location.region}|${name}`, minute);
  return durations.map((raw, i) => {
    const h = mix(seed, i);
    const durationMs = Math.max(0.01, round2(raw));
    const failure =
      i < errors ? (h % 4 === 0 ? 'timeout' : h % 4 === 1 ? 'out_of_memory' : 'error') : 'success';
    const used = Math.max(16, Math.round(fn.memorySize * (0.2 + 0.6 * unit4(h, 0, 0, 7))));
    return {
      requestId: uuid(seed, i),
      startMs: minuteMs + Math.floor(((i + unit4(h, 0, 0, 3)) / n) * MINUTE),
      durationMs,
      billedDurationMs: Math.ceil(durationMs),
      memorySizeMb: fn.memorySize,
      maxMemoryUsedMb: failure === 'out_of_memory' ? fn.memorySize : Math.min(used, fn.memorySize),
      ...(env.cold && i === 0 ? { initDurationMs: round2(80 + 700 * unit4(h, 0, 0, 11)) } : {}),
      outcome: failure,
      logStreamName: env.stream,
    };
  });
}

const iso = (ms: number): string => new Date(ms).toISOString();
const APP_MESSAGES = [
  'order accepted',
  'cache refreshed',
  'thumbnail written',
  'user signed in',
  'batch done',
];

/** The four lines of one invocation in the function's log format. */
export function invocationLines(invocation: LambdaInvocation, format: 'Text' | 'JSON'): LogLine[] {
  const { requestId: id, startMs, durationMs } = invocation;
  const endMs = startMs + Math.ceil(durationMs);
  const app = APP_MESSAGES[hashString(id) % APP_MESSAGES.length]!;
  const at = (timestamp: number, message: string): LogLine => ({
    timestamp,
    logStreamName: invocation.logStreamName,
    message,
  });
  return format === 'JSON' ? jsonLines(invocation, app, endMs, at) : textLines(invocation, app, endMs, at);
}

type At = (timestamp: number, message: string) => LogLine;

function textLines(inv: LambdaInvocation, app: string, endMs: number, at: At): LogLine[] {
  const id = inv.requestId;
  const middle =
    inv.outcome === 'timeout'
      ? at(endMs, `${iso(endMs)} ${id} Task timed out after ${(inv.durationMs / 1000).toFixed(2)} seconds`)
      : inv.outcome === 'out_of_memory'
        ? at(endMs, `RequestId: ${id} Error: Runtime exited with error: signal: killed\nRuntime.ExitError`)
        : inv.outcome === 'error'
          ? at(
              inv.startMs + 1,
              `${iso(inv.startMs + 1)}\t${id}\tERROR\tInvoke Error \t{"errorType":"Error","errorMessage":"${app} failed"}`,
            )
          : at(inv.startMs + 1, `${iso(inv.startMs + 1)}\t${id}\tINFO\t${app}`);
  const status =
    inv.outcome === 'timeout'
      ? 'Status: timeout\t'
      : inv.outcome === 'out_of_memory'
        ? 'Status: error\tError Type: Runtime.OutOfMemory\t'
        : '';
  const report =
    `REPORT RequestId: ${id}\tDuration: ${inv.durationMs.toFixed(2)} ms\tBilled Duration: ${inv.billedDurationMs} ms\t` +
    `Memory Size: ${inv.memorySizeMb} MB\tMax Memory Used: ${inv.maxMemoryUsedMb} MB\t` +
    (inv.initDurationMs !== undefined ? `Init Duration: ${inv.initDurationMs.toFixed(2)} ms\t` : '') +
    status;
  return [
    at(inv.startMs, `START RequestId: ${id} Version: $LATEST`),
    middle,
    at(endMs, `END RequestId: ${id}`),
    at(endMs, report),
  ];
}

function jsonLines(inv: LambdaInvocation, app: string, endMs: number, at: At): LogLine[] {
  const id = inv.requestId;
  const status = inv.outcome === 'success' ? 'success' : inv.outcome === 'timeout' ? 'timeout' : 'error';
  const errorType = inv.outcome === 'out_of_memory' ? { errorType: 'Runtime.OutOfMemory' } : {};
  const level = inv.outcome === 'success' ? 'INFO' : 'ERROR';
  const metrics = {
    durationMs: inv.durationMs,
    billedDurationMs: inv.billedDurationMs,
    memorySizeMB: inv.memorySizeMb,
    maxMemoryUsedMB: inv.maxMemoryUsedMb,
    ...(inv.initDurationMs !== undefined ? { initDurationMs: inv.initDurationMs } : {}),
  };
  return [
    at(
      inv.startMs,
      JSON.stringify({
        time: iso(inv.startMs),
        type: 'platform.start',
        record: { requestId: id, version: '$LATEST' },
      }),
    ),
    at(
      inv.startMs + 1,
      JSON.stringify({ timestamp: iso(inv.startMs + 1), level, requestId: id, message: app }),
    ),
    at(
      endMs,
      JSON.stringify({
        time: iso(endMs),
        type: 'platform.runtimeDone',
        record: { requestId: id, status, ...errorType },
      }),
    ),
    at(
      endMs,
      JSON.stringify({
        time: iso(endMs),
        type: 'platform.report',
        record: { requestId: id, metrics, status, ...errorType },
      }),
    ),
  ];
}
