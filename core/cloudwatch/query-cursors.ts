import type { InstanceInfo } from '../check/check.js';
import { cursorId, legacyQueryId } from '../state/cursor-id.js';
import { type CursorStore, CursorUpdates, type LegacyOwner } from '../state/cursor-store.js';
import type { PlannedQuery, QueryProgress } from './planned-query.js';
import { afterSettlement } from '../sink/settlement.js';
import type { Series } from './series.js';

/** A generous size of one query's cursor in a journal record (id, watermark, a pending period or two). */
const JOURNAL_BYTES_PER_QUERY = 64;

/**
 * The metrics source's view of the shared cursor store: one cursor per emitted query, identified by
 * what defines the query (check, instance name, account, region, namespace, series, statistic, period)
 * and not by the instance's other options, so that editing them keeps every cursor.
 */
export class QueryCursors {
  private readonly legacyOwner: LegacyOwner;

  constructor(
    readonly store: CursorStore,
    private readonly info: InstanceInfo,
    private readonly namespace: string,
    private readonly period: number,
  ) {
    this.legacyOwner = legacyOwnerOf(info);
  }

  idOf(region: string, accountId: string, series: Series, statistic: string): string {
    return this.store.canonicalId(
      cursorId([
        'metric',
        this.info.checkName,
        this.info.instanceName ?? '',
        accountId,
        region,
        this.namespace,
        series.key,
        statistic,
        this.period,
      ]),
    );
  }

  /** The stored progress of a query (its marks are period starts). */
  progressOf(id: string): QueryProgress | undefined {
    return this.store.get(id) as QueryProgress | undefined;
  }

  /** The cursor a new query had in a state file of an earlier version, if any (kept in a dry run). */
  adoptLegacy(query: PlannedQuery, region: string, dryRun: boolean): QueryProgress | undefined {
    const legacyId = legacyQueryId(region, query.series.key, query.statistic, this.period);
    return this.store.adoptLegacy(legacyId, this.legacyOwner, !dryRun) as QueryProgress | undefined;
  }

  /**
   * Room in the journal for the cursors of `queries` queries, taken before they are sent: a full disk
   * stops a batch here, not between "sent" and "recorded". Throws StateWriteError naming the fix.
   */
  reserve(queries: number): () => void {
    return this.store.reserve(queries * JOURNAL_BYTES_PER_QUERY);
  }

  /** Records cursors now, within room reserved for them. */
  recordNow(updates: CursorUpdates): void {
    const release = this.reserve(updates.size);
    try {
      this.store.record(updates);
    } finally {
      release();
    }
  }
}

/**
 * Commits the cursors of one region's run as each query's samples are accepted by the sink. The
 * records of the queries settled together are handed to the store as one batch at the end of their
 * settlement (see core/sink/settlement.ts), which writes them with every other source's, so nothing
 * comes between delivery and record.
 */
export class CursorCommitter {
  private pending: CursorUpdates | undefined;
  /** The first record that could not be written: the run fails with it, nothing more is sent. */
  private failure: Error | undefined;

  constructor(private readonly cursors: QueryCursors) {}

  recordSoon(id: string, w: number, seen: readonly number[]): void {
    if (this.pending === undefined) {
      this.pending = new CursorUpdates();
      afterSettlement(() => this.flush());
    }
    this.pending.add(id, w, seen);
  }

  /** The first record that could not be written, by this run or, at a settlement's end, by the store. */
  get stateError(): Error | undefined {
    return this.failure ?? this.cursors.store.writeError;
  }

  /** Keeps the first state error; sent but not written down stays in memory (see CursorStore). */
  fail(error: unknown): void {
    this.failure ??= error instanceof Error ? error : new Error(String(error));
  }

  private flush(): void {
    const updates = this.pending!;
    this.pending = undefined;
    try {
      this.cursors.store.record(updates);
    } catch (error) {
      this.fail(error);
    }
  }
}

/**
 * Where this instance's queries find their cursors in state files of versions before cursors were
 * shared: the file named after its current instance ID, or any file of the same check and instance
 * name (an instance whose options changed with the upgrade).
 */
function legacyOwnerOf(info: InstanceInfo): LegacyOwner {
  const safe = (text: string): string => text.replace(/[^A-Za-z0-9_.-]/g, '_');
  const prefix = safe(`${info.checkName}:${info.instanceName ? `${info.instanceName}:` : ''}`);
  return {
    instanceFile: safe(info.instanceId),
    sameCheck: new RegExp(`^${prefix.replace(/[.]/g, '\\.')}[0-9a-f]{16}$`),
  };
}
