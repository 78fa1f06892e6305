import type { NormalizedTags } from '../sink/samples.js';

/**
 * Name and tag rules (SPEC §2, §5). The Agent does not validate what DogStatsD receives, so every name
 * and every tag, from every source (checks, instance and global configuration, the environment,
 * dogwatch's own metrics), is normalised here before a sample reaches any sink. NormalizedTags can
 * only be made here.
 */

export const MAX_METRIC_NAME_LENGTH = 200;
export const MAX_TAG_LENGTH = 200;
/** The empty host tag: tells the Agent "no host" for AWS resources (SPEC §2). Added by the runtime. */
export const NO_HOST_TAG = 'host:';

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
 * Datadog's tag rules: lowercase; a run of characters outside [a-z0-9_\-:./] becomes one `_`; starts
 * with a letter (anything before the first letter is dropped); never ends with `:`; at most 200
 * characters. So a newline, `,`, `|` or `#` can never reach the wire inside a tag. Returns undefined
 * for a tag with nothing usable left.
 */
export function normalizeTag(tag: string): string | undefined {
  let out = tag.toLowerCase().replace(/[^a-z0-9_\-:./]+/g, '_');
  out = out.replace(/^[^a-z]+/, '');
  if (out.length > MAX_TAG_LENGTH) out = out.slice(0, MAX_TAG_LENGTH);
  out = out.replace(/:+$/, '');
  return out.length > 0 ? out : undefined;
}

/** Normalises a list of tags, dropping the unusable ones and repeats, order kept. */
export function normalizeTags(tags: readonly string[]): NormalizedTags {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of tags) {
    const tag = normalizeTag(raw);
    if (tag !== undefined && !seen.has(tag)) {
      seen.add(tag);
      out.push(tag);
    }
  }
  return out as unknown as NormalizedTags;
}

/** Bytes of the tag section `|#a,b,c` of a DogStatsD line. */
export function tagSectionBytes(tags: readonly string[]): number {
  if (tags.length === 0) return 0;
  let bytes = 2 + tags.length - 1;
  for (const tag of tags) bytes += tag.length;
  return bytes;
}

/** A merged tag list and how many of its leading tags identify the series (never trimmed). */
interface MergedTags {
  readonly tags: NormalizedTags;
  readonly identity: number;
}

/**
 * Merges a check's tags with the instance and global ones, normalised and de-duplicated, in the order
 * that decides what is trimmed first when a line does not fit a datagram (see `fit`): the check's
 * identifying tags, then the instance and global tags, then the check's descriptive tags (resource
 * attributes, AWS tags), then `host:`. Lists are cached by the identity of the check's array: the
 * engine hands the same array for every point of a series.
 */
export class TagNormalizer {
  private readonly tagCache = new Map<string, string | undefined>();
  private readonly listCache = new WeakMap<readonly string[], MergedTags & { readonly from: number }>();
  private readonly extra: readonly string[];
  private readonly empty: MergedTags;

  constructor(
    extraTags: readonly string[],
    private readonly options: { readonly noHost?: boolean } = {},
  ) {
    this.extra = normalizeTags(extraTags);
    this.empty = this.build([], 0);
  }

  /** `identityTags`: how many leading tags of `tags` identify the series; default all of them. */
  merge(tags: readonly string[] | undefined, identityTags?: number): MergedTags {
    if (!tags || tags.length === 0) return this.empty;
    const identity = Math.min(identityTags ?? tags.length, tags.length);
    const cached = this.listCache.get(tags);
    if (cached && cached.from === identity) return cached;
    const result = { ...this.build(tags, identity), from: identity };
    this.listCache.set(tags, result);
    return result;
  }

  private build(tags: readonly string[], identity: number): MergedTags {
    const out: string[] = [];
    const seen = new Set<string>();
    const add = (raw: string): void => {
      const tag = this.normalize(raw);
      if (tag !== undefined && !seen.has(tag)) {
        seen.add(tag);
        out.push(tag);
      }
    };
    for (let i = 0; i < identity; i++) add(tags[i]!);
    const identityCount = out.length;
    for (const tag of this.extra) add(tag);
    for (let i = identity; i < tags.length; i++) add(tags[i]!);
    if (this.options.noHost) out.push(NO_HOST_TAG);
    return { tags: out as unknown as NormalizedTags, identity: identityCount };
  }

  private normalize(tag: string): string | undefined {
    if (this.tagCache.has(tag)) return this.tagCache.get(tag);
    const normalized = normalizeTag(tag);
    if (this.tagCache.size < 100_000) this.tagCache.set(tag, normalized);
    return normalized;
  }
}

/**
 * The documented trimming rule for a line longer than a datagram: tags are dropped from the end of the
 * merged list (the check's descriptive tags first — AWS tags before resource attributes —, then the
 * global and instance tags), never the identifying ones nor `host:`, until the tag section fits
 * `budgetBytes`. Returns the list unchanged when it fits, or the trimmed list and what was dropped;
 * undefined when even the identifying tags do not fit.
 */
export function fitTags(
  merged: MergedTags,
  budgetBytes: number,
): { readonly tags: NormalizedTags; readonly dropped: readonly string[] } | undefined {
  const all = merged.tags;
  if (tagSectionBytes(all) <= budgetBytes) return { tags: all, dropped: [] };
  const host = all[all.length - 1] === NO_HOST_TAG ? 1 : 0;
  const kept = all.slice(0, all.length - host);
  const dropped: string[] = [];
  const suffix = all.slice(all.length - host);
  while (kept.length > merged.identity && tagSectionBytes([...kept, ...suffix]) > budgetBytes)
    dropped.push(kept.pop()!);
  const tags = [...kept, ...suffix];
  if (tagSectionBytes(tags) > budgetBytes) return undefined;
  return { tags: tags as unknown as NormalizedTags, dropped };
}
