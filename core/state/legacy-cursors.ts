import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { type CursorEntry, readLegacyState } from './cursor-snapshot.js';
import type { StateFiles } from './state-files.js';

/** Legacy cursors are kept under `legacy|<old state file>|<old id>` until a query adopts them. */
const LEGACY = 'legacy|';

/** Where a query looks for the cursor it had in a state file written before cursors were shared. */
export interface LegacyOwner {
  /** The old file's base name for this instance's current ID (it is the same if the config did not change). */
  readonly instanceFile: string;
  /** Old files of the same check and instance name, with any config hash. */
  readonly sameCheck: RegExp;
}

/**
 * Cursors of per-instance state files written before cursors were shared. They are imported into the
 * store under `legacy|…` keys at load, adopted by the queries that owned them, and the old files are
 * removed once a snapshot holds what they held.
 */
export class LegacyCursors {
  /** Old files whose cursors the store still holds. */
  private readonly files = new Set<string>();
  /** Old files to remove after the next snapshot. */
  private readonly pendingRemoval: string[] = [];

  constructor(
    private readonly stateFiles: StateFiles,
    private readonly stateDir: string,
    private readonly logger: Logger,
  ) {}

  /** A key read back from the snapshot or journal: a legacy one keeps its file known. */
  noteKept(id: string): void {
    if (id.startsWith(LEGACY)) this.files.add(fileOf(id));
  }

  /** A key dropped by the store (grace period). */
  forget(id: string): void {
    if (id.startsWith(LEGACY)) this.files.delete(fileOf(id));
  }

  /** Reads the old files of the state folder into `set`; true when there were any. */
  async importFiles(
    set: (id: string, w: number, seen: readonly (number | string)[]) => void,
  ): Promise<boolean> {
    const bases = new Set<string>();
    for (const name of await this.stateFiles.list(this.stateDir)) {
      const match = /^(.+)\.(json|journal)$/.exec(name);
      if (!match || name === 'cursors.json' || /^cursors-\d+\.journal$/.test(name)) continue;
      bases.add(match[1]!);
    }
    let imported = 0;
    for (const base of bases) {
      const legacy = await readLegacyState(
        await this.read(`${base}.json`),
        await this.read(`${base}.journal`),
      );
      for (const [oldId, cursor] of legacy) {
        set(`${LEGACY}${base}|${oldId}`, cursor.w, cursor.seen);
        imported++;
      }
      this.files.add(base);
      this.pendingRemoval.push(join(this.stateDir, `${base}.json`), join(this.stateDir, `${base}.journal`));
    }
    if (bases.size === 0) return false;
    this.logger.info(
      `state of ${bases.size} instance(s) written by an earlier version: ${imported} cursor(s) kept for their queries (${[...bases].join(', ')})`,
    );
    return true;
  }

  /**
   * The cursor a query without one had in an old file: its own instance's file first, then files of the
   * same check and instance name; the most advanced wins. Adopted cursors are removed from `entries`
   * (unless `remove` is false: a dry run); the caller records the new one.
   */
  adopt(
    legacyId: string,
    owner: LegacyOwner,
    entries: { get(id: string): CursorEntry | undefined; delete(id: string): boolean },
    remove: boolean,
  ): { w: number; seen: readonly (number | string)[] } | undefined {
    if (this.files.size === 0) return undefined;
    let best: CursorEntry | undefined;
    const candidates: string[] = [];
    for (const file of this.files) {
      if (file !== owner.instanceFile && !owner.sameCheck.test(file)) continue;
      const key = `${LEGACY}${file}|${legacyId}`;
      const entry = entries.get(key);
      if (!entry) continue;
      candidates.push(key);
      if (best === undefined || entry.w > best.w) best = entry;
    }
    if (remove) for (const key of candidates) entries.delete(key);
    return best && { w: best.w, seen: best.seen };
  }

  /** After a snapshot holds what the old files held. */
  async removeImportedFiles(): Promise<void> {
    for (const path of this.pendingRemoval.splice(0)) await this.stateFiles.remove(path);
  }

  private async read(file: string): Promise<string | undefined> {
    try {
      return await this.stateFiles.readText(join(this.stateDir, file));
    } catch {
      return undefined;
    }
  }
}

/** `legacy|<file>|<region>|<hash>` → `<file>`. */
function fileOf(key: string): string {
  return key.slice(LEGACY.length, key.lastIndexOf('|', key.lastIndexOf('|') - 1));
}
