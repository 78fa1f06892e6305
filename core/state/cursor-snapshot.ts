import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { legacyIdOfKey } from './cursor-id.js';

/** One cursor: `w` is a time (ms) everything before which was sent; `seen` what was sent at or after it. */
export interface CursorEntry {
  /** The key's own string, so that a rebuilt plan can share it (see CursorStore.canonicalId). */
  readonly id: string;
  w: number;
  seen: readonly (number | string)[];
  /** When it was last recorded (ms): cursors nothing records any more are dropped after a grace period. */
  at: number;
}

export const SNAPSHOT_VERSION = 4;
/** Entries serialised, parsed or scanned between two yields to the event loop. */
export const CHUNK_ENTRIES = 5_000;

export interface SnapshotHeader {
  readonly version: number;
  readonly savedAt: string;
  readonly entries: number;
  /** Journals from this generation on hold records newer than the snapshot. */
  readonly journalGeneration: number;
}

let lastWatermark = NaN;
let lastWatermarkValue = '';

/** A cursor's JSON value in the journal and snapshot: `[w, ...seen]`. */
export function cursorValue(w: number, seen: readonly (number | string)[]): string {
  if (seen.length === 0) {
    // Most cursors of a settlement share their watermark (the same period end): one conversion.
    if (w !== lastWatermark) {
      lastWatermark = w;
      lastWatermarkValue = `[${w}]`;
    }
    return lastWatermarkValue;
  }
  let text = `[${w}`;
  for (const mark of seen) text += `,${typeof mark === 'number' ? String(mark) : JSON.stringify(mark)}`;
  return `${text}]`;
}

/** `[w, ...seen]` read back; undefined when it is not one. */
export function parseCursorValue(
  value: readonly unknown[],
): { w: number; seen: (number | string)[] } | undefined {
  if (!Array.isArray(value) || value.length === 0 || !Number.isFinite(value[0])) return undefined;
  const seen = value.slice(1);
  if (!seen.every((m) => (typeof m === 'number' && Number.isFinite(m)) || typeof m === 'string'))
    return undefined;
  return { w: value[0] as number, seen: seen as (number | string)[] };
}

/**
 * The snapshot, chunk by chunk: a JSON header line, then `["<id>",at,w,...seen]` per cursor. Written in
 * chunks (yielding between them): one JSON document of every cursor would hold the event loop for as long
 * as it takes to build, which grows with the number of queries.
 */
export async function* snapshotChunks(
  entries: Iterable<CursorEntry>,
  count: number,
  journalGeneration: number,
): AsyncIterable<string> {
  const header: SnapshotHeader = {
    version: SNAPSHOT_VERSION,
    savedAt: new Date().toISOString(),
    entries: count,
    journalGeneration,
  };
  yield `${JSON.stringify(header)}\n`;
  let chunk = '';
  let inChunk = 0;
  for (const e of entries) {
    chunk += `[${JSON.stringify(e.id)},${e.at},${cursorValue(e.w, e.seen).slice(1)}\n`;
    if (++inChunk === CHUNK_ENTRIES) {
      yield chunk;
      chunk = '';
      inChunk = 0;
      await yieldToEventLoop();
    }
  }
  if (inChunk > 0) yield chunk;
}

/** Reads a snapshot; throws (with the reason) when it is not a whole, valid one. */
export async function readSnapshot(
  text: string,
  apply: (id: string, at: number, value: readonly unknown[]) => void,
): Promise<SnapshotHeader> {
  const lines = text.split('\n');
  const header = JSON.parse(lines[0] ?? '') as Partial<SnapshotHeader>;
  if (header.version !== SNAPSHOT_VERSION || typeof header.entries !== 'number')
    throw new Error(`unexpected format (version ${String(header.version)})`);
  let count = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const entry = JSON.parse(line) as unknown;
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number')
      throw new Error(`bad entry on line ${i + 1}`);
    apply(entry[0], entry[1], entry.slice(2));
    if (++count % CHUNK_ENTRIES === 0) await yieldToEventLoop();
  }
  if (count !== header.entries) throw new Error(`truncated: ${count} of ${header.entries} entries`);
  return header as SnapshotHeader;
}

/**
 * The cursors of one instance's state as written before cursors belonged to queries (snapshot formats
 * 2 and 3, `<instance>.json`, plus `<instance>.journal`), by their format-3 id. Unreadable parts are
 * skipped: what they held starts again from the first-run lookback, as a corrupt file always did.
 */
export async function readLegacyState(
  snapshot: string | undefined,
  journal: string | undefined,
): Promise<Map<string, { w: number; seen: number[] }>> {
  const found = new Map<string, { w: number; seen: number[] }>();
  const put = (key: string, value: unknown): void => {
    const parsed = Array.isArray(value) ? parseCursorValue(value) : undefined;
    if (parsed && parsed.seen.every((m) => typeof m === 'number'))
      found.set(legacyIdOfKey(key), { w: parsed.w, seen: parsed.seen });
  };
  if (snapshot) {
    const lines = snapshot.split('\n');
    try {
      const header = JSON.parse(lines[0] ?? '') as { version?: number };
      if (header.version === 2 || header.version === 3) {
        for (let i = 1; i < lines.length; i++) {
          try {
            const entry = JSON.parse(lines[i] || 'null') as unknown;
            if (Array.isArray(entry) && typeof entry[0] === 'string') put(entry[0], entry.slice(1));
          } catch {
            // a torn line: the rest still counts
          }
          if (i % CHUNK_ENTRIES === 0) await yieldToEventLoop();
        }
      }
    } catch {
      // not a snapshot at all
    }
  }
  for (const line of journal?.split('\n') ?? []) {
    try {
      const record = JSON.parse(line || 'null') as Record<string, unknown> | null;
      if (record && typeof record === 'object')
        for (const [key, value] of Object.entries(record)) put(key, value);
    } catch {
      // a torn line
    }
  }
  return found;
}
