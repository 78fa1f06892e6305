import type { GetMetricDataInput, Metric, MetricDataQuery, MetricStat } from '@aws-sdk/client-cloudwatch';

/**
 * GetMetricData's request body as the lean CloudWatch codec sends it (see lean-cloudwatch-codec.ts):
 * AWS JSON 1.0, the SDK's input with timestamps as epoch seconds, byte for byte what JSON.stringify
 * of that input gives.
 */

/**
 * A GetMetricData query of one statistic of one metric, whose `MetricStat` object is made only if read.
 * A collector keeps one query per (series × statistic) for as long as its plan lives, hundreds of
 * thousands of them: the request codec writes these from their own fields (see writeQuery), so the
 * `{ Metric, Period, Stat }` object the SDK's shape asks for is not kept per query. The SDK's own
 * serialiser reads the getters and writes the same JSON.
 */
export abstract class MetricStatQuery implements MetricDataQuery {
  /** Unique within a request. */
  abstract readonly Id: string;
  /**
   * Exactly `{ Namespace, MetricName, Dimensions }`, in that order, as JSON.stringify would write it.
   * Frozen Dimensions are shared by the series of a resource: their JSON is written once and cached.
   */
  abstract readonly metric: Metric;
  abstract readonly period: number;
  abstract readonly statistic: string;

  get MetricStat(): MetricStat {
    return { Metric: this.metric, Period: this.period, Stat: this.statistic };
  }

  get ReturnData(): boolean {
    return true;
  }
}

/** A query under another Id (a shared request re-issues them), as the SDK's plain shape. */
export function withQueryId(query: MetricDataQuery, Id: string): MetricDataQuery {
  if (query instanceof MetricStatQuery) return { Id, MetricStat: query.MetricStat, ReturnData: true };
  return { ...query, Id };
}

const INPUT_MEMBERS = new Set([
  'MetricDataQueries',
  'StartTime',
  'EndTime',
  'NextToken',
  'ScanBy',
  'MaxDatapoints',
  'LabelOptions',
]);

/**
 * The request body (AWS JSON 1.0, UTF-8), or undefined when the input is not plain data this codec knows
 * (then the SDK serialises it). Timestamps become epoch seconds, written as the SDK writes them.
 */
export function encodeGetMetricDataInput(input: unknown): Buffer | undefined {
  if (input === null || typeof input !== 'object') return undefined;
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!INPUT_MEMBERS.has(key)) return undefined;
  const { StartTime, EndTime, MetricDataQueries } = record as unknown as GetMetricDataInput;
  if (!(StartTime instanceof Date) || !(EndTime instanceof Date) || !Array.isArray(MetricDataQueries))
    return undefined;
  if (
    record.LabelOptions !== undefined &&
    (record.LabelOptions === null || typeof record.LabelOptions !== 'object')
  )
    return undefined;
  // Written member by member as JSON.stringify would (same order, same values), straight into bytes:
  // a 100 KB JSON string costs its own flattening and a second large allocation to encode it, which
  // at 200 requests a run was most of the encoding (BENCHMARKS.md). Each query's Metric comes from a
  // cache: a series' Metric object is shared by its statistics and kept by every run's plan.
  const body = BODY;
  body.reset();
  body.put('{');
  let first = true;
  for (const key of Object.keys(record)) {
    const value =
      key === 'StartTime'
        ? StartTime.getTime() / 1000
        : key === 'EndTime'
          ? EndTime.getTime() / 1000
          : record[key];
    if (value === undefined) continue;
    body.put(first ? `"${key}":` : `,"${key}":`);
    first = false;
    if (key === 'MetricDataQueries') writeQueries(body, MetricDataQueries);
    else body.put(JSON.stringify(value));
  }
  body.put('}');
  return body.bytes();
}

/**
 * Writes UTF-8 into one growing scratch buffer and copies the result out. Synchronous from reset to
 * bytes, so one writer serves every request of the process. ASCII text is copied a character at a time
 * from JavaScript: a request is thousands of short pieces, and both ways of handing them to the native
 * encoder cost more (one Buffer.write per piece: a native call each; joining them into longer strings:
 * ~900 bytes of strings allocated per query, whose collection was the cost; BENCHMARKS.md).
 */
class BodyWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private at = 0;

  reset(): void {
    this.at = 0;
  }

  /** Any text, as UTF-8. */
  put(text: string): void {
    const length = text.length;
    this.reserve(length);
    const buffer = this.buffer;
    let at = this.at;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.at = at;
        return this.putUtf8(i === 0 ? text : text.slice(i));
      }
      buffer[at++] = c;
    }
    this.at = at;
  }

  /**
   * A string as JSON.stringify writes it when that is the string between quotes (ASCII without quotes,
   * backslashes or control characters): true, and written; false, and nothing written, otherwise.
   */
  putPlainString(text: string): boolean {
    const length = text.length;
    this.reserve(length + 2);
    const buffer = this.buffer;
    let at = this.at;
    buffer[at++] = 0x22;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) return false;
      buffer[at++] = c;
    }
    buffer[at++] = 0x22;
    this.at = at;
    return true;
  }

  bytes(): Buffer {
    const out = Buffer.allocUnsafe(this.at);
    this.buffer.copy(out, 0, 0, this.at);
    return out;
  }

  private putUtf8(text: string): void {
    // A UTF-16 unit is at most 3 bytes of UTF-8.
    this.reserve(text.length * 3);
    this.at += this.buffer.write(text, this.at, 'utf8');
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}
const BODY = new BodyWriter();

/** A plain object JSON.stringify would write member by member (no toJSON of its own). */
function isEncodableRecord(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function'
  );
}

/** `"Key":` and `,"Key":` by member name: the few names of a query, written without a new string each. */
const memberPrefixes = new Map<string, readonly [string, string]>();
function memberPrefix(key: string, first: boolean): string {
  let prefixes = memberPrefixes.get(key);
  if (prefixes === undefined) {
    const quoted = JSON.stringify(key);
    prefixes = [`${quoted}:`, `,${quoted}:`];
    if (memberPrefixes.size < 256) memberPrefixes.set(key, prefixes);
  }
  return prefixes[first ? 0 : 1];
}

/**
 * JSON text of a member's value. Strings and numbers repeat from request to request (Ids `s0`…,
 * statistics, periods): their text is kept (a bounded number of them) instead of made per query.
 */
const primitiveJson = new Map<string | number, string>();
function jsonOf(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value !== 'string' && typeof value !== 'number') return JSON.stringify(value);
  let text = primitiveJson.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    if (primitiveJson.size < 4096) primitiveJson.set(value, text);
  }
  return text;
}

function writeQueries(body: BodyWriter, queries: readonly unknown[]): void {
  body.put('[');
  for (let i = 0; i < queries.length; i++) {
    if (i > 0) body.put(',');
    writeQuery(body, queries[i]);
  }
  body.put(']');
}

/**
 * One MetricDataQuery as JSON.stringify writes it. The usual shape (a MetricStat of a Metric, Period
 * and Stat) is written around the cached Metric JSON; anything else is JSON.stringify's own.
 */
function writeQuery(body: BodyWriter, query: unknown): void {
  if (query instanceof MetricStatQuery) return writeMetricStatQuery(body, query);
  if (!isEncodableRecord(query)) return body.put(JSON.stringify(query) ?? 'null');
  body.put('{');
  let first = true;
  for (const key in query) {
    if (!Object.prototype.hasOwnProperty.call(query, key)) continue;
    const value = query[key];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    body.put(memberPrefix(key, first));
    first = false;
    if (key === 'MetricStat') writeMetricStat(body, value);
    else body.put(jsonOf(value));
  }
  body.put('}');
}

/** What JSON.stringify writes for `{ Id, MetricStat: { Metric, Period, Stat }, ReturnData: true }`. */
function writeMetricStatQuery(body: BodyWriter, query: MetricStatQuery): void {
  body.put('{"Id":');
  writeString(body, query.Id);
  body.put(',"MetricStat":{"Metric":');
  writeMetric(body, query.metric);
  body.put(',"Period":');
  body.put(jsonOf(query.period));
  body.put(',"Stat":');
  writeString(body, query.statistic);
  body.put('},"ReturnData":true}');
}

/**
 * A MetricStatQuery's Metric from its parts. A cache of each series' whole Metric JSON cost ~200 bytes
 * per series for as long as the plan lived; the parts repeat (one namespace, a few dozen metric names,
 * a dimension per resource that all its series share).
 */
function writeMetric(body: BodyWriter, metric: Metric): void {
  const dimensions = metric.Dimensions;
  if (typeof metric.Namespace !== 'string' || typeof metric.MetricName !== 'string' || !dimensions)
    return body.put(JSON.stringify(metric));
  body.put('{"Namespace":');
  writeString(body, metric.Namespace);
  body.put(',"MetricName":');
  writeString(body, metric.MetricName);
  body.put(',"Dimensions":[');
  for (let i = 0; i < dimensions.length; i++) {
    if (i > 0) body.put(',');
    const dimension = dimensions[i]!;
    if (!Object.isFrozen(dimension)) {
      body.put(JSON.stringify(dimension));
      continue;
    }
    let cached = dimensionJson.get(dimension);
    if (cached === undefined) dimensionJson.set(dimension, (cached = JSON.stringify(dimension)));
    body.put(cached);
  }
  body.put(']}');
}
const dimensionJson = new WeakMap<object, string>();

function isUsualMetric(value: unknown): value is Metric {
  if (value === null || typeof value !== 'object') return false;
  const keys = Object.keys(value);
  return keys.length === 3 && keys[0] === 'Namespace' && keys[1] === 'MetricName' && keys[2] === 'Dimensions';
}

/** A string as JSON.stringify writes it. */
function writeString(body: BodyWriter, text: string): void {
  if (!body.putPlainString(text)) body.put(JSON.stringify(text));
}

function writeMetricStat(body: BodyWriter, stat: unknown): void {
  if (!isEncodableRecord(stat)) return body.put(JSON.stringify(stat));
  body.put('{');
  let first = true;
  for (const key in stat) {
    if (!Object.prototype.hasOwnProperty.call(stat, key)) continue;
    const value = stat[key];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    body.put(memberPrefix(key, first));
    first = false;
    // The usual Metric (these members in this order) is written from its parts, as JSON.stringify would.
    if (key === 'Metric' && isUsualMetric(value)) writeMetric(body, value);
    else body.put(jsonOf(value));
  }
  body.put('}');
}
