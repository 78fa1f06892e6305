/** Edit distance (insertions, deletions, substitutions), for "did you mean" hints. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? Math.max(a.length, b.length);
}

const MAX_EDITS = 2;
const MIN_PREFIX = 3;

/**
 * The candidate a user most likely meant: within 2 edits (case-insensitive), or one of the two is a
 * prefix of the other (at least 3 characters). Undefined when nothing is close.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const needle = word.toLowerCase();
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const hay = candidate.toLowerCase();
    if (hay === needle) return candidate;
    const isPrefix =
      Math.min(needle.length, hay.length) >= MIN_PREFIX && (hay.startsWith(needle) || needle.startsWith(hay));
    // Lengths further apart than MAX_EDITS cannot be within MAX_EDITS: skip the quadratic distance.
    if (!isPrefix && Math.abs(needle.length - hay.length) > MAX_EDITS) continue;
    const distance = levenshtein(needle, hay);
    // A prefix match ranks after any close edit, so `regio` → `regions` but `perid` → `period`.
    const score = distance <= MAX_EDITS ? distance : isPrefix ? MAX_EDITS + 0.5 : Infinity;
    if (score !== Infinity && (best === undefined || score < best.score)) best = { candidate, score };
  }
  return best?.candidate;
}
