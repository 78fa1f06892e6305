import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { CheckRunContext, InstanceInfo, SelfMetrics } from '../check/check.js';
import { awsAccessOf, type AwsAccess, type AwsClientFactory } from '../aws/aws-client-factory.js';
import { AwsCallStats, awsCallScope } from '../aws/aws-call-stats.js';
import { inEveryRegion } from '../aws/every-region.js';
import type { Logger } from '../log/logger.js';
import { cursorId } from '../state/cursor-id.js';
import { type CursorStore, CursorUpdates } from '../state/cursor-store.js';
import { LateHorizonCursor } from '../state/late-horizon-cursor.js';
import { cloudTrailClient } from './cloudtrail-client.js';
import { lookupEvents } from './lookup-events-reader.js';
import { emitTrailEvents } from './trail-event-emitter.js';
import type { TrailEventSelection } from './trail-event-selection.js';

/**
 * How late an event may reach LookupEvents and still be sent: 30 minutes. CloudTrail documents that it
 * delivers an event "typically within 5 minutes" of the call, and events are seen in LookupEvents within
 * about 15 minutes in practice; twice that covers a slow delivery. Each run reads the last 30 minutes again
 * (usually one page per region): the cursor's seen IDs keep that from repeating anything. An event that
 * reaches LookupEvents later than this is never sent.
 */
export const TRAIL_LATE_HORIZON_MS = 30 * 60_000;

/**
 * Datadog's events intake takes events "up to 18 hours in the past" (Events API, `date_happened`); the
 * Agent forwards what it gets. Older events are not sent (a first run's lookback or a long outage).
 */
export const MAX_EVENT_AGE_MS = 18 * 3600_000;

/** The source's name in the instance's status (`status` → sources). */
export const TRAIL_SOURCE_NAME = 'cloudtrail_events';

/** Bytes of journal reserved per event sent (its ID and time in the cursor's seen list), and per cursor. */
const JOURNAL_BYTES_PER_EVENT = 64;
const JOURNAL_BYTES_PER_CURSOR = 128;

/** The instance options the source reads. */
export interface TrailSourceConfig {
  readonly regions: readonly string[] | 'all';
  readonly role_arn?: string;
  readonly external_id?: string;
  readonly endpoint_url?: string;
  readonly lookback?: number;
}

export interface TrailSourceServices<R = unknown> {
  readonly clients: AwsClientFactory;
  readonly cursors: CursorStore;
  readonly telemetry?: SelfMetrics;
  /** Fault injection for the restart tests (see core/fault-injection.ts). */
  readonly crashPoint?: (name: string) => void;
  /** Pages of one LookupEvents read (default MAX_PAGES_PER_READ); the rest of the window is read next run. */
  readonly maxPagesPerRead?: number;
  /** The instance's inventories loaded so far, by region, for the selection to join (see TrailDescribeContext). */
  readonly inventories?: () => ReadonlyMap<string, R>;
}

/** What one region's read did. */
interface RegionRead {
  sent: number;
  failed: number;
  lagMs: number;
  firstError?: string;
}

/**
 * The CloudTrail events source of one instance: per account and region, the management events of one
 * event source that the selection describes, each as one Datadog event, exactly once.
 *
 * Each run reads [cursor, now) from LookupEvents (now on AWS's clock), sends the events the cursor has
 * not seen, one delivery group each, and records an event's ID in the cursor (shared cursor store) as
 * soon as the sink accepted it. Once every event of a complete read was accepted, the cursor's time moves
 * to now − TRAIL_LATE_HORIZON_MS. A failed read or send keeps the cursor: the window is read again, the
 * seen IDs keep what was sent from being sent twice. It knows nothing of the check it serves.
 */
export class TrailEventSource<R = unknown> {
  private readonly access: AwsAccess;

  constructor(
    private readonly selection: TrailEventSelection<R>,
    private readonly config: TrailSourceConfig,
    private readonly info: InstanceInfo,
    private readonly services: TrailSourceServices<R>,
    private readonly logger: Logger,
  ) {
    this.access = awsAccessOf(config);
  }

  async run(context: CheckRunContext): Promise<void> {
    const store = this.services.cursors;
    for (const warning of await store.load()) context.submit.warning(warning);
    if (!context.dryRun) await store.prepareToWrite();
    const stats = new AwsCallStats();
    const failures = await awsCallScope.run({ stats, signal: context.signal }, () => this.collect(context));
    if (failures.length > 0)
      throw new Error(`deployment events incomplete — ${failures.join('; ')}; read again next run`);
  }

  private async collect(context: CheckRunContext): Promise<string[]> {
    const reads: RegionRead[] = [];
    const failures = await inEveryRegion(
      this.services.clients,
      this.access,
      this.config.regions,
      async (region, accountId) => {
        try {
          const read = await this.collectRegion(region, accountId, context);
          reads.push(read);
          this.reportSelfMetrics(context, region, read);
          return read.failed > 0
            ? [`${region}: ${read.failed} event(s) not delivered (${read.firstError})`]
            : [];
        } catch (error) {
          return [
            `${region}: LookupEvents failed: ${error instanceof Error ? error.message : String(error)}`,
          ];
        }
      },
    );
    context.progress?.report(TRAIL_SOURCE_NAME, {
      sent: reads.reduce((n, r) => n + r.sent, 0),
      notDelivered: reads.reduce((n, r) => n + r.failed, 0),
      ...(reads.length > 0 ? { cursorLagSeconds: Math.max(...reads.map((r) => r.lagMs)) / 1000 } : {}),
    });
    return failures;
  }

  private cursorIdOf(accountId: string, region: string): string {
    const { checkName, instanceName } = this.info;
    const key = ['trail', checkName, instanceName ?? '', accountId, region, this.selection.eventSource];
    return this.services.cursors.canonicalId(cursorId(key));
  }

  private async collectRegion(region: string, accountId: string, run: CheckRunContext): Promise<RegionRead> {
    const store = this.services.cursors;
    const clients = this.services.clients;
    const id = this.cursorIdOf(accountId, region);
    const now = clients.serverTime.now();
    const stored = store.get(id);
    const lookbackMs =
      this.config.lookback !== undefined ? this.config.lookback * 1000 : TRAIL_LATE_HORIZON_MS;
    const cursor = stored
      ? LateHorizonCursor.fromStored(stored)
      : LateHorizonCursor.startingAt(now - lookbackMs);
    let stateError: Error | undefined;
    const record = (): void => {
      const updates = new CursorUpdates();
      const { w, seen } = cursor.toStored();
      updates.add(id, w, seen);
      try {
        store.record(updates);
      } catch (error) {
        // Sent but not written down stays in memory (see CursorStore); the run fails naming the file.
        stateError ??= error instanceof Error ? error : new Error(String(error));
      }
    };
    // A new cursor is written before anything is read: a crash in the first run cannot move where it starts.
    if (!stored && !run.dryRun) this.withRoom(record);
    // Older events would be refused by Datadog's intake: the read starts no earlier than its age limit.
    const startMs = Math.max(cursor.startMs, now - MAX_EVENT_AGE_MS);
    const endMs = cursor.readEnd(now);
    const client = clients.client<CloudTrailClient>(cloudTrailClient, this.access, region);
    const window = { region, eventSource: this.selection.eventSource, startMs, endMs };
    const read = await lookupEvents(client, window, run.signal, this.services.maxPagesPerRead);
    const wanted = read.records
      .filter((r) => this.selection.operations.has(r.operation) && cursor.accepts(r.id, r.timeMs))
      .sort((a, b) => a.timeMs - b.timeMs || (a.id < b.id ? -1 : 1));
    const outcome = await emitTrailEvents(wanted, {
      selection: this.selection,
      describeContext: { accountId, inventories: this.services.inventories?.() ?? new Map<string, R>() },
      region,
      run,
      cursor,
      record,
      reserve: (events) => store.reserve(journalBytes(events, cursor.toStored().seen.length)),
      crashPoint: this.services.crashPoint ?? (() => undefined),
    });
    if (outcome.failed === 0 && !run.dryRun) {
      // A read cut at the page cap is finished by the next run, from the cursor up to where it stopped.
      if (read.resumeEndMs === undefined) cursor.settle(endMs, TRAIL_LATE_HORIZON_MS);
      else cursor.stopAt(read.resumeEndMs, endMs);
      this.withRoom(record);
    }
    // A record written at a settlement's end reports its failure through the store.
    stateError ??= run.dryRun ? undefined : store.writeError;
    if (stateError !== undefined) throw stateError;
    const { sent, failed, firstError } = outcome;
    return { sent, failed, firstError, lagMs: now - cursor.startMs };
  }

  private withRoom(write: () => void): void {
    const release = this.services.cursors.reserve(journalBytes(0, 0));
    try {
      write();
    } finally {
      release();
    }
  }

  private reportSelfMetrics(run: CheckRunContext, region: string, read: RegionRead): void {
    const telemetry = this.services.telemetry;
    if (run.dryRun || !telemetry) return;
    const tags = [`region:${region}`, `event_source:${this.selection.eventSource}`];
    telemetry.instanceMetric(this.info, 'cloudtrail.events', 'count', read.sent, tags);
    telemetry.instanceMetric(this.info, 'cloudtrail.cursor_lag', 'gauge', read.lagMs / 1000, tags);
    if (read.failed > 0)
      this.logger.warn(`${region}: ${read.failed} deployment event(s) not delivered; sent again next run`);
  }
}

/**
 * Journal room for a chunk of `events` events sent with `seen` IDs already in the cursor: each accepted
 * event may write the whole cursor once more (when deliveries settle in different turns of the event loop).
 */
function journalBytes(events: number, seen: number): number {
  return (events + 1) * (JOURNAL_BYTES_PER_CURSOR + (seen + events) * JOURNAL_BYTES_PER_EVENT);
}
