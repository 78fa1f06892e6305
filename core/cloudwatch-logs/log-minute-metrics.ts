import type { FilteredLogEvent } from './filter-log-events.js';

const MINUTE_MS = 60_000;

/** One observation a check reads from a log event (a Lambda REPORT line), at the instant it counts for. */
export interface LogMeasurement {
  /** Milliseconds; the measurement counts in the minute holding this instant (a Lambda invocation's start). */
  readonly timeMs: number;
  /** The series' tags, identity first; measurements with equal tags in one minute are aggregated. */
  readonly tags: readonly string[];
  /** How many leading `tags` identify the series (never trimmed; see SubmitOptions.identityTags). */
  readonly identityTags: number;
  /** Field → value, e.g. `duration` → seconds. A field absent is not observed (not a zero). */
  readonly values: Readonly<Record<string, number>>;
}

/** One metric sent per minute and tag set, from one field's aggregate over the minute. */
export interface LogMetricOutput {
  readonly metric: string;
  readonly type: 'count' | 'gauge';
  readonly field: string;
  /** `sum` (counts, totals), `max`, `avg` (sum / observations). */
  readonly stat: 'sum' | 'max' | 'avg';
  /** Multiplies the value sent (fields kept in integer units, e.g. hundredths of ms, sent in seconds). */
  readonly scale?: number;
}

/**
 * How a check derives per-minute metrics from a log group's events. The source aggregates the
 * measurements per minute and tag set, keeps the aggregates in the cursor store beside the group's
 * cursor, and sends a minute once no event of it can still be read (see MinuteAggregates).
 */
export interface LogMetricsDerivation {
  measure(event: FilteredLogEvent): LogMeasurement | undefined;
  readonly outputs: readonly LogMetricOutput[];
  /**
   * How long after `timeMs` a measured event may be logged (a Lambda function's timeout: its REPORT
   * line is written when the invocation ends). A minute is sent only when the cursor has passed its
   * end plus this span.
   */
  readonly spanMs: number;
}

/** Per field: observations, sum, maximum. */
type FieldAggregate = [n: number, sum: number, max: number];

interface MinuteBucket {
  readonly minuteMs: number;
  readonly tags: readonly string[];
  readonly identityTags: number;
  readonly fields: Record<string, FieldAggregate>;
}

/** One minute's metric, ready to send. */
export interface MinuteSample {
  readonly metric: string;
  readonly type: 'count' | 'gauge';
  readonly value: number;
  /** Unix seconds: the minute's start, as CloudWatch stamps its one-minute points. */
  readonly timestamp: number;
  readonly tags: readonly string[];
  readonly identityTags: number;
}

/**
 * The per-minute aggregates of one log group that are not sent yet, and `fromMs`: every minute before
 * it was sent (or is not ours: before the group's first read). Stored in the cursor store as
 * `[fromMs, "<json bucket>", …]`; a bucket's sums are JSON numbers, so a restart resumes them exactly.
 *
 * Contract: add a page's measurements to a copy and record that copy in the same journal line as the
 * log cursor that marks the page sent; so a page counts in the aggregates exactly when its lines count
 * as sent. A minute is taken out (`takeSettled`) only once the log cursor's start has passed the
 * minute's end plus the span: no event of it can be read any more, so its values are final, and one
 * sent twice (a crash between sending and recording) is the same value at the same timestamp, which
 * Datadog keeps once.
 */
export class MinuteAggregates {
  private constructor(
    private from: number,
    private readonly buckets: Map<string, MinuteBucket>,
  ) {}

  /** Aggregates of a group whose reading starts at `firstReadMs`: the first whole minute is the first counted. */
  static startingAt(firstReadMs: number): MinuteAggregates {
    return new MinuteAggregates(Math.ceil(firstReadMs / MINUTE_MS) * MINUTE_MS, new Map());
  }

  static fromStored(stored: {
    readonly w: number;
    readonly seen: readonly (number | string)[];
  }): MinuteAggregates {
    const buckets = new Map<string, MinuteBucket>();
    for (const mark of stored.seen) {
      if (typeof mark !== 'string') continue;
      try {
        const [minuteMs, identityTags, tags, fields] = JSON.parse(mark) as [
          number,
          number,
          string[],
          Record<string, FieldAggregate>,
        ];
        buckets.set(bucketKey(minuteMs, tags), { minuteMs, identityTags, tags, fields });
      } catch {
        // A mark this version cannot read is dropped (that minute is not sent) rather than failing the group.
      }
    }
    return new MinuteAggregates(stored.w, buckets);
  }

  get fromMs(): number {
    return this.from;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Adds one measurement; false when its minute is before `fromMs` (already sent, or not whole). */
  add(measurement: LogMeasurement): boolean {
    const minuteMs = Math.floor(measurement.timeMs / MINUTE_MS) * MINUTE_MS;
    if (minuteMs < this.from) return false;
    const key = bucketKey(minuteMs, measurement.tags);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = {
        minuteMs,
        tags: [...measurement.tags],
        identityTags: measurement.identityTags,
        fields: {},
      };
      this.buckets.set(key, bucket);
    }
    for (const [field, value] of Object.entries(measurement.values)) {
      const aggregate = bucket.fields[field];
      if (aggregate) {
        aggregate[0]++;
        aggregate[1] += value;
        aggregate[2] = Math.max(aggregate[2], value);
      } else bucket.fields[field] = [1, value, value];
    }
    return true;
  }

  /**
   * Takes out the minutes that ended at least `spanMs` before `readStartMs` (where the log cursor now
   * starts: nothing older is read again) and returns their samples; `fromMs` moves past them.
   */
  takeSettled(readStartMs: number, spanMs: number, outputs: readonly LogMetricOutput[]): MinuteSample[] {
    const settledBefore = Math.floor((readStartMs - spanMs) / MINUTE_MS) * MINUTE_MS;
    if (settledBefore <= this.from) return [];
    this.from = settledBefore;
    const samples: MinuteSample[] = [];
    for (const [key, bucket] of this.buckets) {
      if (bucket.minuteMs >= settledBefore) continue;
      this.buckets.delete(key);
      samples.push(...samplesOf(bucket, outputs));
    }
    return samples;
  }

  copy(): MinuteAggregates {
    const buckets = new Map<string, MinuteBucket>();
    for (const [key, b] of this.buckets) {
      const fields: Record<string, FieldAggregate> = {};
      for (const [field, [n, sum, max]] of Object.entries(b.fields)) fields[field] = [n, sum, max];
      buckets.set(key, { ...b, fields });
    }
    return new MinuteAggregates(this.from, buckets);
  }

  toStored(): { w: number; seen: string[] } {
    const seen = [...this.buckets.values()].map((b) =>
      JSON.stringify([b.minuteMs, b.identityTags, b.tags, b.fields]),
    );
    return { w: this.from, seen };
  }
}

function bucketKey(minuteMs: number, tags: readonly string[]): string {
  return `${minuteMs}|${tags.join(',')}`;
}

function samplesOf(bucket: MinuteBucket, outputs: readonly LogMetricOutput[]): MinuteSample[] {
  const samples: MinuteSample[] = [];
  for (const output of outputs) {
    const aggregate = bucket.fields[output.field];
    if (!aggregate) continue;
    const [n, sum, max] = aggregate;
    const value = (output.stat === 'sum' ? sum : output.stat === 'max' ? max : sum / n) * (output.scale ?? 1);
    samples.push({
      metric: output.metric,
      type: output.type,
      value,
      timestamp: bucket.minuteMs / 1000,
      tags: bucket.tags,
      identityTags: bucket.identityTags,
    });
  }
  return samples;
}
