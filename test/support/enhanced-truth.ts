/**
 * Enhanced Lambda metrics (aws.lambda.enhanced.*) as received, folded per function and minute, beside
 * the same figures from the emulator's per-invocation truth (`lambdaInvocations`).
 */
import { lambdaInvocations, type World } from '../../emulator/index.js';
import { parseMetricLine, type ParsedMetricLine } from './world-truth.js';

const PREFIX = 'aws.lambda.enhanced.';

/** One function's minute. Durations in ms, memory in MB. */
export interface MinuteTotals {
  invocations: number;
  coldStarts: number;
  durationSumMs: number;
  durationMaxMs: number;
  billedSumMs: number;
  maxMemoryMb: number;
  initSumMs: number;
  timeouts: number;
  outOfMemory: number;
  errors: number;
}

export interface ReceivedEnhanced {
  /** `<functionname>|<minute ms>` → totals over the minute's series (cold and warm, versions …). */
  readonly minutes: Map<string, MinuteTotals>;
  /** The same metric, tags and timestamp received with different values (a double count). */
  readonly conflicts: string[];
  /** The same point received again with the same value (harmless: Datadog keeps one). */
  readonly repeats: number;
  readonly points: number;
}

const zero = (): MinuteTotals => ({
  invocations: 0,
  coldStarts: 0,
  durationSumMs: 0,
  durationMaxMs: 0,
  billedSumMs: 0,
  maxMemoryMb: 0,
  initSumMs: 0,
  timeouts: 0,
  outOfMemory: 0,
  errors: 0,
});

/** Folds the received DogStatsD lines' enhanced points per function and minute. */
export function receivedEnhanced(lines: readonly string[]): ReceivedEnhanced {
  const points = new Map<string, ParsedMetricLine>();
  const conflicts: string[] = [];
  let repeats = 0;
  for (const line of lines) {
    const parsed = parseMetricLine(line);
    if (!parsed?.metric.startsWith(PREFIX)) continue;
    const key = `${parsed.metric}@${parsed.timestamp}{${[...parsed.tags].sort().join(',')}}`;
    const before = points.get(key);
    if (before && before.value !== parsed.value)
      conflicts.push(`${key}: ${before.value} then ${parsed.value}`);
    else if (before) repeats++;
    else points.set(key, parsed);
  }
  // Per series (tag set and minute): its points by metric.
  const series = new Map<string, Map<string, number>>();
  for (const point of points.values()) {
    const key = `${point.timestamp}|${[...point.tags].sort().join(',')}`;
    const metrics = series.get(key) ?? new Map<string, number>();
    metrics.set(point.metric.slice(PREFIX.length), point.value);
    series.set(key, metrics);
  }
  const minutes = new Map<string, MinuteTotals>();
  for (const [key, m] of series) {
    const [timestamp, tagList] = [Number(key.slice(0, key.indexOf('|'))), key.slice(key.indexOf('|') + 1)];
    const tags = tagList.split(',');
    const fn = tags.find((t) => t.startsWith('functionname:'))!.slice('functionname:'.length);
    const cold = tags.includes('cold_start:true');
    const minuteKey = `${fn}|${timestamp * 1000}`;
    const t = minutes.get(minuteKey) ?? zero();
    const n = m.get('invocations') ?? 0;
    t.invocations += n;
    if (cold) t.coldStarts += n;
    t.durationSumMs += (m.get('duration.sum') ?? 0) * 1000;
    t.durationMaxMs = Math.max(t.durationMaxMs, (m.get('duration.maximum') ?? 0) * 1000);
    t.billedSumMs += (m.get('billed_duration.sum') ?? 0) * 1000;
    t.maxMemoryMb = Math.max(t.maxMemoryMb, m.get('max_memory_used.maximum') ?? 0);
    t.initSumMs += (m.get('init_duration') ?? 0) * 1000 * n;
    t.timeouts += m.get('timeouts') ?? 0;
    t.outOfMemory += m.get('out_of_memory') ?? 0;
    t.errors += m.get('errors') ?? 0;
    minutes.set(minuteKey, t);
  }
  return { minutes, conflicts, repeats, points: points.size };
}

/** The world's figures for one function's minute (invocations that started in it). */
export function truthMinute(
  world: World,
  fn: Parameters<typeof lambdaInvocations>[1],
  location: { account: string; region: string },
  minuteMs: number,
): MinuteTotals {
  const t = zero();
  for (const inv of lambdaInvocations(world, fn, fn.name, location, minuteMs)) {
    t.invocations++;
    t.durationSumMs += inv.durationMs;
    t.durationMaxMs = Math.max(t.durationMaxMs, inv.durationMs);
    t.billedSumMs += inv.billedDurationMs;
    t.maxMemoryMb = Math.max(t.maxMemoryMb, inv.maxMemoryUsedMb);
    if (inv.initDurationMs !== undefined) {
      t.coldStarts++;
      t.initSumMs += inv.initDurationMs;
    }
    if (inv.outcome === 'timeout') t.timeouts++;
    if (inv.outcome === 'out_of_memory') t.outOfMemory++;
    if (inv.outcome !== 'success') t.errors++;
  }
  return t;
}

/** The fields of two minutes that differ (durations within 1 µs per invocation: float sums). */
export function minuteDifferences(got: MinuteTotals, want: MinuteTotals): string[] {
  const out: string[] = [];
  const tolerance = 1e-3 * Math.max(1, want.invocations);
  for (const key of Object.keys(want) as (keyof MinuteTotals)[]) {
    const exact = !key.endsWith('Ms');
    const differs = exact ? got[key] !== want[key] : Math.abs(got[key] - want[key]) > tolerance;
    if (differs) out.push(`${key} ${got[key]} ≠ ${want[key]}`);
  }
  return out;
}
