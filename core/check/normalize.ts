/**
 * Name and tag rules (SPEC §2, §5). The Agent does not validate what DogStatsD receives, so every name
 * and tag is normalised here, once, before a sample reaches any sink.
 */

export const MAX_METRIC_NAME_LENGTH = 200;
export const MAX_TAG_LENGTH = 200;

/**
 * Metric names: ASCII letters, digits, `_` and `.`; must start with a letter. Anything else becomes `_`;
 * repeated `_` collapse; at most 200 characters. Returns undefined when nothing usable is left.
 */
export function normalizeMetricName(name: string): string | undefined {
  let out = name.replace(/[^A-Za-z0-9_.]/g, '_').replace(/_{2,}/g, '_');
  out = out.replace(/^[^A-Za-z]+/, '');
  out = out.replace(/[._]+$/, '');
  if (out.length > MAX_METRIC_NAME_LENGTH) out = out.slice(0, MAX_METRIC_NAME_LENGTH).replace(/[._]+$/, '');
  return out.length > 0 ? out : undefined;
}

/**
 * Tags: lowercased; characters outside [a-z0-9_\-:./] become `_`; at most 200 characters.
 * `host:` (empty value) is kept as is: it tells the Agent "no host" for AWS resources (SPEC §2).
 * Returns undefined for a tag that is empty after normalisation.
 */
export function normalizeTag(tag: string): string | undefined {
  let out = tag.toLowerCase().replace(/[^a-z0-9_\-:./]/g, '_');
  if (out.length > MAX_TAG_LENGTH) out = out.slice(0, MAX_TAG_LENGTH);
  if (out.length === 0 || out === ':' || out.startsWith(':')) return undefined;
  return out;
}

/**
 * Caches normalised tag lists. The engine hands the same tag array object for every point of a series,
 * so merging and normalising happens once per series, not once per datapoint.
 */
export class TagNormalizer {
  private readonly tagCache = new Map<string, string | undefined>();
  private readonly listCache = new WeakMap<readonly string[], readonly string[]>();

  constructor(private readonly extraTags: readonly string[]) {}

  /** Merges the check's tags with the instance/global ones, normalised and de-duplicated, order kept. */
  merge(tags: readonly string[] | undefined): readonly string[] {
    if (!tags || tags.length === 0) return this.merged([]);
    const cached = this.listCache.get(tags);
    if (cached) return cached;
    const result = this.merged(tags);
    this.listCache.set(tags, result);
    return result;
  }

  private merged(tags: readonly string[]): readonly string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const raw of [...tags, ...this.extraTags]) {
      const tag = this.normalize(raw);
      if (tag !== undefined && !seen.has(tag)) {
        seen.add(tag);
        out.push(tag);
      }
    }
    return out;
  }

  private normalize(tag: string): string | undefined {
    if (this.tagCache.has(tag)) return this.tagCache.get(tag);
    const normalized = normalizeTag(tag);
    if (this.tagCache.size < 100_000) this.tagCache.set(tag, normalized);
    return normalized;
  }
}
