/**
 * The value model: what CloudWatch would return for one series over one period.
 *
 * A series is the sum of one or more *leaves* (a REST stage is the sum of all its resources, whether or
 * not they publish detailed series). A leaf-minute is a pure function of (leaf seed, metric, minute);
 * longer periods and multi-leaf series aggregate leaf-minutes the way CloudWatch aggregates statistic
 * sets: SampleCount and Sum add, Minimum/Maximum take the extremes, Average = Sum / SampleCount.
 * Percentiles of a `dist` aggregate are the sample-weighted mean of the parts' percentiles: not what
 * CloudWatch computes, but always within [Minimum, Maximum] and monotonic in p.
 */
import type { MetricProfile } from './catalog.js';
import { hashString, unit4 } from './prng.js';

export interface Datapoint {
  readonly SampleCount: number;
  readonly Sum: number;
  readonly Average: number;
  readonly Minimum: number;
  readonly Maximum: number;
  /** The pNN statistic, p in (0, 100]. */
  percentile(p: number): number;
}

export const MINUTE_MS = 60_000;

interface DistPart {
  n: number;
  min: number;
  max: number;
  k: number;
}

/** Accumulates leaf-minutes of one series over one period. */
export class StatisticAccumulator {
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private ones = 0;
  private readonly parts: DistPart[] = [];

  constructor(private readonly profile: MetricProfile) {}

  /** Adds the leaf-minute (leafSeed, minute); no-op when that leaf-minute has no data. */
  addLeafMinute(leafSeed: number, metricSeed: number, minute: number): void {
    const p = this.profile;
    if (p.presence < 1 && unit4(leafSeed, metricSeed, minute, 3) >= p.presence) return;
    let n: number;
    if (p.count === 'traffic') {
      const base = 5 + Math.floor(unit4(leafSeed, 0, 0, 1) * 95);
      n = Math.max(1, Math.round(base * (0.6 + 0.8 * unit4(leafSeed, 0, minute, 2))));
    } else {
      const [lo, hi] = p.count;
      n = lo + Math.floor(unit4(leafSeed, metricSeed, minute, 4) * (hi - lo + 1));
    }
    if (p.shape === 'ones') {
      this.addFlat(n, n, 1, 1);
      this.ones += n;
    } else if (p.shape === 'bernoulli') {
      const [lo, hi] = p.fraction ?? [0, 0.1];
      let s = Math.round(n * (lo + (hi - lo) * unit4(leafSeed, metricSeed, minute, 5)));
      // A sparse error series is sparse because the minutes without errors publish nothing.
      if (p.presence < 1) s = Math.max(1, s);
      this.addFlat(n, s, s === n ? 1 : 0, s > 0 ? 1 : 0);
      this.ones += s;
    } else {
      const [lo, hi] = p.value ?? [0, 1];
      const min = lo + (hi - lo) * 0.4 * unit4(leafSeed, metricSeed, minute, 6);
      const max = n === 1 ? min : min + (hi - min) * (0.1 + 0.9 * unit4(leafSeed, metricSeed, minute, 7));
      const k = 1 + 3 * unit4(leafSeed, metricSeed, minute, 8);
      // The mean of min + (max-min)·u^k over uniform u is min + (max-min)/(k+1).
      const average = min + (max - min) / (k + 1);
      this.addFlat(n, average * n, min, max);
      this.parts.push({ n, min, max, k });
    }
  }

  private addFlat(n: number, sum: number, min: number, max: number): void {
    this.n += n;
    this.sum += sum;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
  }

  /** The datapoint, or undefined when no leaf-minute had data. */
  result(): Datapoint | undefined {
    if (this.n === 0) return undefined;
    const { n, sum, min, max, ones, parts } = this;
    const shape = this.profile.shape;
    const percentile = (p: number): number => {
      if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside (0, 100]`);
      if (shape === 'ones') return 1;
      if (shape === 'bernoulli') {
        // Samples sorted: (n - ones) zeros, then ones.
        const rank = Math.ceil((p / 100) * n);
        return rank > n - ones ? 1 : 0;
      }
      let weighted = 0;
      for (const part of parts)
        weighted += part.n * (part.min + (part.max - part.min) * Math.pow(p / 100, part.k));
      return Math.min(max, Math.max(min, weighted / n));
    };
    return { SampleCount: n, Sum: sum, Average: sum / n, Minimum: min, Maximum: max, percentile };
  }
}

/** Seeds a metric name mixes into its leaf-minutes. */
export function metricSeed(metricName: string): number {
  return hashString(metricName);
}

/**
 * Reads a statistic out of a datapoint. Accepts CloudWatch's names: Average, Sum, Minimum, Maximum,
 * SampleCount, pNN and pNN.N (up to two decimals). Returns undefined for an unsupported statistic.
 */
export function readStatistic(point: Datapoint, stat: string): number | undefined {
  switch (stat) {
    case 'Average':
      return point.Average;
    case 'Sum':
      return point.Sum;
    case 'Minimum':
      return point.Minimum;
    case 'Maximum':
      return point.Maximum;
    case 'SampleCount':
      return point.SampleCount;
  }
  const p = percentileOf(stat);
  return p === undefined ? undefined : point.percentile(p);
}

/** `p99.9` → 99.9; undefined when `stat` is not a percentile statistic. */
export function percentileOf(stat: string): number | undefined {
  const match = /^p(\d{1,2}(?:\.\d{1,2})?|100)$/.exec(stat);
  if (!match?.[1]) return undefined;
  const p = Number(match[1]);
  return p > 0 && p <= 100 ? p : undefined;
}

export function isSupportedStatistic(stat: string): boolean {
  return (
    ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'].includes(stat) || percentileOf(stat) !== undefined
  );
}
