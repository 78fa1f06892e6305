/**
 * DogStatsD wire encoding (SPEC §5), as pure functions. One call = one line, without the trailing
 * newline; packing lines into datagrams is the sink's job.
 *
 * Names and tags arrive already validated by the runtime (core/check/normalize.ts), so metric
 * encoding does not re-check them: it is on the hot path (up to 100,000 lines per run). Free text
 * (event title/text, service check message) is escaped here because only the encoder knows the
 * wire rules for it.
 */
import type { EventSample, MetricSample, Sample, ServiceCheckSample } from './samples.js';

/**
 * Tag sections (`|#a,b`) keyed by the tags array itself. The engine gives every point of a series
 * the same array, so a run of N points joins its tags once instead of N times. A WeakMap lets the
 * arrays be collected once the series is gone.
 */
const tagSectionCache = new WeakMap<readonly string[], string>();

/** `|#tag1,tag2`, or the empty string for no tags. Cached per array identity (see above). */
export function tagSection(tags: readonly string[]): string {
  if (tags.length === 0) return '';
  let section = tagSectionCache.get(tags);
  if (section === undefined) {
    section = '|#' + tags.join(',');
    tagSectionCache.set(tags, section);
  }
  return section;
}

/**
 * A finite number in plain decimal notation: never an exponent (`1e-7` → `0.0000001`,
 * `1e21` → `1000000000000000000000`), at most 17 significant digits (JavaScript's shortest
 * round-trip form). Returns undefined for NaN and ±Infinity, which DogStatsD cannot carry.
 */
export function formatMetricValue(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  const text = String(value);
  // String() only switches to exponent form below 1e-6 or at 1e21 and above.
  return text.includes('e') ? expandExponent(text) : text;
}

/** Rewrites JavaScript's `d.ddde±x` form as plain decimal digits. */
function expandExponent(text: string): string {
  const negative = text.startsWith('-');
  const unsigned = negative ? text.slice(1) : text;
  const ePos = unsigned.indexOf('e');
  const mantissa = unsigned.slice(0, ePos);
  const exponent = Number(unsigned.slice(ePos + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  // Position of the decimal point relative to the start of `digits`.
  const pointAt = (dot === -1 ? mantissa.length : dot) + exponent;
  let plain: string;
  if (pointAt <= 0) plain = '0.' + '0'.repeat(-pointAt) + digits;
  else if (pointAt >= digits.length) plain = digits + '0'.repeat(pointAt - digits.length);
  else plain = digits.slice(0, pointAt) + '.' + digits.slice(pointAt);
  return negative ? '-' + plain : plain;
}

/**
 * `name:value|g|#tags|T<seconds>`. Returns undefined when the value is not finite or the timestamp
 * is not a finite number: the caller counts the sample as dropped.
 */
export function encodeMetric(sample: MetricSample): string | undefined {
  const value = formatMetricValue(sample.value);
  if (value === undefined) return undefined;
  const head =
    sample.metric + ':' + value + (sample.type === 'count' ? '|c' : '|g') + tagSection(sample.tags);
  const timestamp = sample.timestamp;
  if (timestamp === undefined) return head;
  if (!Number.isFinite(timestamp)) return undefined;
  return head + '|T' + Math.floor(timestamp);
}

/** `\r\n`, `\r` and `\n` become the two characters `\n`, as DogStatsD expects in free text. */
export function escapeNewlines(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/\r\n|\r|\n/g, '\\n') : text;
}

/**
 * Optional event/service check fields (`h:`, `k:`, `s:`) are delimited by `|` and lines by `\n`;
 * neither can be escaped on the wire, so both become `_`.
 */
function fieldValue(text: string): string {
  return /[|\n\r]/.test(text) ? text.replace(/[|\n\r]/g, '_') : text;
}

/**
 * `_e{<title bytes>,<text bytes>}:title|text|d:|h:|k:|p:|s:|t:|#tags`. Lengths are UTF-8 bytes of
 * the escaped title and text; `|` inside them is safe because the Agent cuts them by length.
 */
export function encodeEvent(sample: EventSample): string {
  const title = escapeNewlines(sample.title);
  const text = escapeNewlines(sample.text);
  let line = `_e{${Buffer.byteLength(title, 'utf8')},${Buffer.byteLength(text, 'utf8')}}:${title}|${text}`;
  if (sample.timestamp !== undefined && Number.isFinite(sample.timestamp)) {
    line += `|d:${Math.floor(sample.timestamp)}`;
  }
  if (sample.hostname !== undefined) line += `|h:${fieldValue(sample.hostname)}`;
  if (sample.aggregationKey !== undefined) line += `|k:${fieldValue(sample.aggregationKey)}`;
  if (sample.priority !== undefined) line += `|p:${sample.priority}`;
  if (sample.sourceTypeName !== undefined) line += `|s:${fieldValue(sample.sourceTypeName)}`;
  if (sample.alertType !== undefined) line += `|t:${sample.alertType}`;
  return line + tagSection(sample.tags);
}

/**
 * The service check message is the last field but the Agent still splits it on `|`, and DogStatsD
 * has no escape for `|`: a `|` in the message becomes `¦` (U+00A6, broken bar), which reads the same
 * to a human and cannot truncate the message. Newlines become the two characters `\n`.
 */
export function escapeServiceCheckMessage(message: string): string {
  const escaped = escapeNewlines(message);
  return escaped.includes('|') ? escaped.replaceAll('|', '\u00a6') : escaped;
}

/**
 * `_sc|name|<0..3>|d:|h:|#tags|m:message` (m: last). Returns undefined for a status outside 0..3.
 */
export function encodeServiceCheck(sample: ServiceCheckSample): string | undefined {
  const status: number = sample.status;
  if (!Number.isInteger(status) || status < 0 || status > 3) return undefined;
  let line = `_sc|${sample.name}|${status}`;
  if (sample.timestamp !== undefined && Number.isFinite(sample.timestamp)) {
    line += `|d:${Math.floor(sample.timestamp)}`;
  }
  if (sample.hostname !== undefined) line += `|h:${fieldValue(sample.hostname)}`;
  line += tagSection(sample.tags);
  if (sample.message !== undefined && sample.message !== '') {
    line += `|m:${escapeServiceCheckMessage(sample.message)}`;
  }
  return line;
}

/** One DogStatsD line for any sample; undefined when the sample cannot be encoded. */
export function encodeSample(sample: Sample): string | undefined {
  switch (sample.kind) {
    case 'metric':
      return encodeMetric(sample);
    case 'event':
      return encodeEvent(sample);
    case 'service_check':
      return encodeServiceCheck(sample);
  }
}
