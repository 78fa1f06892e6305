import * as crypto from 'node:crypto';

/**
 * One-shot `crypto.hash` (Node ≥ 20.12) where there is one: a plan rebuild hashes every query's key,
 * and a Hash object per key is a large share of a rebuild's CPU. Same digest either way.
 */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer })
  .hash;

function sha1Digest(text: string): Buffer {
  return oneShotHash ? oneShotHash('sha1', text, 'buffer') : crypto.createHash('sha1').update(text).digest();
}

export function sha1(text: string, encoding: 'base64url' | 'hex'): string {
  return sha1Digest(text).toString(encoding);
}

/**
 * 16 base64url characters (96 bits) of the SHA-1, made from the first 12 bytes of the digest: a flat
 * string of its own (a slice of a longer one would keep the longer one alive as long as the id).
 */
function shortHash(text: string): string {
  return sha1Digest(text).toString('base64url', 0, 12);
}

/**
 * The id a cursor is stored under: 16 base64url characters (96 bits) of the SHA-1 of what identifies
 * the collected stream, e.g. for a CloudWatch query
 * `metric|<check>|<instance name>|<account>|<region>|<namespace>|<MetricName|dims>|<statistic>|<period>`.
 * Nothing of an instance's other options is in it: editing them keeps every cursor. Two distinct keys
 * share an id with probability ~n²/2⁹⁷ (≈ 10⁻¹⁸ at a million cursors).
 */
export function cursorId(parts: readonly (string | number)[]): string {
  return shortHash(parts.join('|'));
}

/**
 * The id state files of snapshot format 3 (before state belonged to queries) kept a query under:
 * `<region>|` + 16 base64url characters of the SHA-1 of `region|MetricName|dims|statistic|period`.
 */
export function legacyQueryId(region: string, seriesKey: string, statistic: string, period: number): string {
  const key = [region, seriesKey, statistic, period].join('|');
  return [region, shortHash(key)].join('|');
}

/** Format 2 wrote the full key (several `|`); format 3 the id above. */
export function legacyIdOfKey(key: string): string {
  const bar = key.indexOf('|');
  if (bar === -1 || key.indexOf('|', bar + 1) === -1) return key;
  return [key.slice(0, bar), shortHash(key)].join('|');
}
