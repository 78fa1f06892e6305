import type { CheckRunContext, InstanceInfo, SelfMetrics } from '../check/check.js';
import { AwsCallStats, awsCallScope } from '../aws/aws-call-stats.js';
import { inEveryRegion } from '../aws/every-region.js';
import { awsAccessOf, type AwsAccess, type AwsClientFactory } from '../aws/aws-client-factory.js';
import type { Logger } from '../log/logger.js';
import type { CursorStore } from '../state/cursor-store.js';
import { cloudWatchLogsClient, filterLogEventsPort } from './cloudwatch-logs-client.js';
import { collectLogGroup, type LogGroupRun } from './log-group-collector.js';
import type { LogGroupTarget } from './log-group-target.js';
import { type LogProcessingRuleConfig, LogProcessingRules } from './log-processing-rules.js';

/** The log groups to read in one region, as the check discovers them (cached with its discovery). */
export type LogGroupDiscovery = (
  region: string,
  accountId: string,
  run: CheckRunContext,
) => Promise<readonly LogGroupTarget[]>;

/** The instance options the source reads. */
export interface LogSourceConfig {
  readonly regions: readonly string[] | 'all';
  readonly role_arn?: string;
  readonly external_id?: string;
  readonly endpoint_url?: string;
  readonly lookback?: number;
  readonly period?: number;
  readonly min_collection_interval?: number;
  /** Validated by the check's schema (logProcessingRulesOption). */
  readonly log_processing_rules?: readonly LogProcessingRuleConfig[];
}

export interface LogSourceServices {
  readonly clients: AwsClientFactory;
  readonly cursors: CursorStore;
  readonly telemetry?: SelfMetrics;
}

/** FilterLogEvents pages per group and run (10,000 events or 1 MB each): the rest is read next run. */
const MAX_PAGES_PER_GROUP = 50;
/** Groups read at once per region: the 5/s quota is the limit, this only keeps the run's memory small. */
const GROUPS_AT_ONCE = 4;
/**
 * An idle group (its last read found nothing new) is read again after 1, 2, 4 then every 4 skipped runs,
 * at most this long apart. Skipping loses nothing: the next read starts at the cursor, not at the skipped
 * run, so a group woken up is read whole, just later; it only delays an idle group's first new lines.
 */
export const IDLE_GROUP_MAX_INTERVAL_MS = 5 * 60_000;

interface IdleState {
  /** Consecutive reads that found nothing new. */
  idleReads: number;
  /** Not read again before this instant (AWS's time). */
  nextReadMs: number;
}

/** What one region's run did. */
interface RegionLogs {
  sent: number;
  excluded: number;
  calls: number;
  read: number;
  skippedIdle: number;
  failures: string[];
}

/**
 * The CloudWatch Logs source of one instance: per account and region, the log groups the check
 * discovered, read with FilterLogEvents on LateHorizonCursor cursors in the shared store and sent to the
 * Agent's logs listener through the runner, exactly once (see collectLogGroup). It knows nothing of the
 * check it serves: the check hands it the targets, each with its ddsource, service, tags and attributes.
 */
export class LogGroupSource {
  private readonly access: AwsAccess;
  private readonly rules: LogProcessingRules;
  private readonly idle = new Map<string, IdleState>();
  /** AWS's time at the previous run and the spacing of runs on that clock (what "a run later" means). */
  private lastRunMs: number | undefined;
  private runSpacingMs: number | undefined;

  constructor(
    private readonly discover: LogGroupDiscovery,
    private readonly config: LogSourceConfig,
    private readonly info: InstanceInfo,
    private readonly services: LogSourceServices,
    private readonly logger: Logger,
  ) {
    this.access = awsAccessOf(config);
    this.rules = LogProcessingRules.compile(config.log_processing_rules);
  }

  async run(context: CheckRunContext): Promise<void> {
    const store = this.services.cursors;
    for (const warning of await store.load()) context.submit.warning(warning);
    if (!context.dryRun) await store.prepareToWrite();
    const now = this.services.clients.serverTime.now();
    if (this.lastRunMs !== undefined && now > this.lastRunMs) this.runSpacingMs = now - this.lastRunMs;
    this.lastRunMs = now;
    const stats = new AwsCallStats();
    const failures = await awsCallScope.run({ stats, signal: context.signal }, () => this.collect(context));
    if (failures.length > 0) throw new Error(`logs incomplete — ${failures.join('; ')}; read again next run`);
  }

  private collect(context: CheckRunContext): Promise<string[]> {
    return inEveryRegion(
      this.services.clients,
      this.access,
      this.config.regions,
      async (region, accountId) => {
        const result = await this.collectRegion(region, accountId, context);
        this.reportSelfMetrics(context, region, result);
        return result.failures;
      },
    );
  }

  private async collectRegion(region: string, accountId: string, run: CheckRunContext): Promise<RegionLogs> {
    const targets = await this.discover(region, accountId, run);
    const clients = this.services.clients;
    const now = clients.serverTime.now();
    const port = filterLogEventsPort(clients.client(cloudWatchLogsClient, this.access, region), run.signal);
    const result: RegionLogs = { sent: 0, excluded: 0, calls: 0, read: 0, skippedIdle: 0, failures: [] };
    const due = targets.filter((target) => run.dryRun || this.isDue(target, now));
    result.skippedIdle = targets.length - due.length;
    const context = {
      port,
      sink: {
        submit: run.submit.log.bind(run.submit),
        room: (records: number) => run.submit.logRoom(records),
        openMetrics: () => run.submit.openDelivery(),
      },
      store: this.services.cursors,
      checkName: this.info.checkName,
      instanceName: this.info.instanceName,
      lookbackMs: this.lookbackMs(),
      maxPages: MAX_PAGES_PER_GROUP,
      dryRun: run.dryRun,
      rules: this.rules,
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length && !run.signal.aborted) {
        const target = due[next++]!;
        try {
          const outcome = await collectLogGroup(context, target, now);
          this.noteRead(target, outcome, now);
          result.sent += outcome.sent;
          result.excluded += outcome.excluded;
          result.calls += outcome.calls;
          result.read++;
        } catch (error) {
          this.idle.delete(groupKey(target));
          result.failures.push(`${region}: ${target.logGroupName}: ${describe(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(GROUPS_AT_ONCE, due.length) }, worker));
    return result;
  }

  private lookbackMs(): number {
    return (this.config.lookback ?? this.config.period ?? 60) * 1000;
  }

  private isDue(target: LogGroupTarget, now: number): boolean {
    const state = this.idle.get(groupKey(target));
    return state === undefined || now >= state.nextReadMs;
  }

  /** A read that found nothing new spaces the group's next read out (see IDLE_GROUP_MAX_INTERVAL_MS). */
  private noteRead(target: LogGroupTarget, outcome: LogGroupRun, now: number): void {
    const key = groupKey(target);
    // Events read count, not lines sent: a group whose lines the rules all drop is busy, not idle.
    if (outcome.handled > 0 || !outcome.complete) return void this.idle.delete(key);
    const idleReads = (this.idle.get(key)?.idleReads ?? 0) + 1;
    const intervalMs = this.runSpacingMs ?? (this.config.min_collection_interval ?? 60) * 1000;
    const skipMs = Math.min(IDLE_GROUP_MAX_INTERVAL_MS, intervalMs * 2 ** Math.min(idleReads - 1, 3));
    // Half an interval early: runs start with jitter, and a read due "just after" a run waits a whole one.
    this.idle.set(key, { idleReads, nextReadMs: now + skipMs - intervalMs / 2 });
  }

  private reportSelfMetrics(run: CheckRunContext, region: string, result: RegionLogs): void {
    const telemetry = this.services.telemetry;
    if (run.dryRun || !telemetry) return;
    const tags = [`region:${region}`];
    telemetry.instanceMetric(this.info, 'logs.lines', 'count', result.sent, tags);
    telemetry.instanceMetric(this.info, 'logs.lines_excluded', 'count', result.excluded, tags);
    telemetry.instanceMetric(this.info, 'logs.api_calls', 'count', result.calls, tags);
    telemetry.instanceMetric(this.info, 'logs.groups_read', 'count', result.read, tags);
    telemetry.instanceMetric(this.info, 'logs.groups_idle_skipped', 'count', result.skippedIdle, tags);
    if (result.failures.length > 0)
      this.logger.warn(
        `${region}: ${result.failures.length} log group(s) not read whole; read again next run`,
      );
  }
}

function groupKey(target: LogGroupTarget): string {
  return `${target.accountId}|${target.region}|${target.logGroupName}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
