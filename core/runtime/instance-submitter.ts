import type {
  CheckSubmitter,
  DeliveryGroup,
  EventOptions,
  ServiceCheckOptions,
  SubmitOptions,
} from '../check/check.js';
import { fitTags, normalizeMetricName, TagNormalizer } from '../check/normalize.js';
import type { Logger } from '../log/logger.js';
import type { LogRecord } from '../logs-sink/log-record.js';
import type { LogSink } from '../logs-sink/log-sink.js';
import { Delivery } from '../sink/delivery.js';
import type { MetricType, NormalizedTags, ServiceCheckStatus } from '../sink/samples.js';
import type { Sink } from '../sink/sink.js';

export interface SubmitterOptions {
  /** Agent `namespace` option: prefixes every metric name of the instance. */
  readonly namespace?: string;
  /** Instance, check-level and global tags appended to every sample. */
  readonly tags: readonly string[];
  /** Metric samples get `host:` so the Agent attaches no host (AWS resources are not the sidecar). */
  readonly emptyHostname: boolean;
  /** The instance's `service`: the service of its log records, over the one the source names. */
  readonly service?: string;
  readonly logger: Logger;
}

export interface SubmissionCounts {
  metricSamples: number;
  events: number;
  serviceChecks: number;
  /** Samples refused before the sink: non-finite values, names with nothing usable left. */
  rejected: number;
  /** Metric samples sent with some tags trimmed so that the line fits a datagram. */
  trimmed: number;
  /** Log records handed to the logs sink. */
  logs: number;
}

function emptyCounts(): SubmissionCounts {
  return { metricSamples: 0, events: 0, serviceChecks: 0, rejected: 0, trimmed: 0, logs: 0 };
}

/**
 * Room a metric line needs besides its tags: a name of at most 200 characters, `:`, a value of at most
 * 24 characters, `|c` and `|T` + 10 digits. Tags get the rest of the datagram.
 */
const LINE_WITHOUT_TAGS_BYTES = 256;

type Fitted = ReturnType<typeof fitTags>;
type Merged = Parameters<typeof fitTags>[0];

/**
 * The runtime's side of the check API: validates and normalises what a check submits, merges tags,
 * trims tags that would not fit a datagram, then hands well-formed samples to the sink. One per
 * instance, reused across runs.
 */
export class InstanceSubmitter implements CheckSubmitter {
  private readonly metricTags: TagNormalizer;
  private readonly otherTags: TagNormalizer;
  private readonly names = new Map<string, string | undefined>();
  private readonly rejectedNames = new Set<string>();
  /** Per merged tag list, the list that fits the current tag budget. */
  private readonly fitted = new WeakMap<Merged, { budget: number; fit: Fitted }>();
  private tagBudget = Number.POSITIVE_INFINITY;
  /** Series (distinct tag lists) trimmed this run, and the first of them described. */
  private trimmedThisRun: { lists: WeakSet<Merged>; series: number; example?: string } = {
    lists: new WeakSet(),
    series: 0,
  };
  private trimLogged = false;
  counts: SubmissionCounts = emptyCounts();
  private runWarnings: string[] = [];

  private logSink: LogSink | undefined;

  constructor(
    private sink: Sink,
    private readonly options: SubmitterOptions,
    logSink?: LogSink,
  ) {
    this.metricTags = new TagNormalizer(options.tags, { noHost: options.emptyHostname });
    this.otherTags = new TagNormalizer(options.tags);
    this.beginRun(sink, logSink);
  }

  /** Starts a new run: counters and warnings reset; the sinks may differ (e.g. `dogwatch check`). */
  beginRun(sink: Sink, logSink?: LogSink): void {
    this.sink = sink;
    this.logSink = logSink;
    this.counts = emptyCounts();
    this.runWarnings = [];
    this.trimmedThisRun = { lists: new WeakSet(), series: 0 };
    this.tagBudget =
      sink.maxLineBytes === undefined
        ? Number.POSITIVE_INFINITY
        : sink.maxLineBytes - LINE_WITHOUT_TAGS_BYTES;
  }

  /** The run's warnings: those raised, and one summing up trimmed tags. */
  get warnings(): string[] {
    const trimmed = this.trimmedThisRun;
    if (trimmed.series === 0) return [...this.runWarnings];
    const summary =
      `tags trimmed on ${trimmed.series} series so that each line fits a ${this.tagBudget + LINE_WITHOUT_TAGS_BYTES}-byte ` +
      `datagram (${trimmed.example}). Rule: AWS tags and resource attributes go first, then global and instance ` +
      'tags; identifying tags never. Fix: fewer or shorter tags, or DogStatsD over UDS (8192-byte datagrams)';
    return [...this.runWarnings, summary];
  }

  gauge(metric: string, value: number, options?: SubmitOptions): void {
    this.metric('gauge', metric, value, options, undefined);
  }

  count(metric: string, value: number, options?: SubmitOptions): void {
    this.metric('count', metric, value, options, undefined);
  }

  event(title: string, text: string, options: EventOptions = {}): void {
    this.emitEvent(title, text, options, undefined);
  }

  serviceCheck(name: string, status: ServiceCheckStatus, options: ServiceCheckOptions = {}): void {
    const normalized = this.metricName(name);
    if (normalized === undefined) return;
    this.counts.serviceChecks++;
    this.sink.submit({
      kind: 'service_check',
      name: normalized,
      status,
      message: options.message,
      timestamp: options.timestamp,
      tags: this.otherTags.merge(options.tags).tags,
    });
  }

  warning(message: string): void {
    this.runWarnings.push(message);
    this.options.logger.warn(message);
  }

  openDelivery(): DeliveryGroup {
    return new SubmitterDeliveryGroup(this, new Delivery());
  }

  /** A metric sample of a delivery group (see SubmitterDeliveryGroup). */
  groupMetric(
    type: MetricType,
    metric: string,
    value: number,
    options: SubmitOptions | undefined,
    delivery: Delivery,
  ): void {
    this.metric(type, metric, value, options, delivery);
  }

  /** An event of a delivery group (see SubmitterDeliveryGroup). */
  groupEvent(title: string, text: string, options: EventOptions, delivery: Delivery): void {
    this.emitEvent(title, text, options, delivery);
  }

  logRoom(records?: number): Promise<void> {
    return this.logSink?.room?.(records) ?? Promise.resolve();
  }

  log(record: LogRecord, delivery?: Delivery): void {
    if (!this.logSink) {
      delivery?.expect();
      delivery?.failed(1, 'no logs sink is configured for this run');
      return;
    }
    this.counts.logs++;
    const service = this.options.service ?? record.service;
    this.logSink.submit({ ...record, service, tags: this.otherTags.merge(record.tags).tags }, delivery);
  }

  private emitEvent(
    title: string,
    text: string,
    options: EventOptions,
    delivery: Delivery | undefined,
  ): void {
    this.counts.events++;
    this.sink.submit(
      {
        kind: 'event',
        title,
        text,
        timestamp: options.timestamp,
        aggregationKey: options.aggregationKey,
        priority: options.priority,
        alertType: options.alertType,
        sourceTypeName: options.sourceTypeName,
        tags: this.otherTags.merge(options.tags).tags,
      },
      delivery,
    );
  }

  private metric(
    type: MetricType,
    metric: string,
    value: number,
    options: SubmitOptions | undefined,
    delivery: Delivery | undefined,
  ): void {
    const name = this.metricName(metric);
    const tags = name !== undefined && Number.isFinite(value) ? this.fit(options) : undefined;
    if (name === undefined || tags === undefined) {
      this.reject(metric, name === undefined ? 'name' : Number.isFinite(value) ? 'tags' : 'value', value);
      return;
    }
    this.counts.metricSamples++;
    this.sink.submit(
      { kind: 'metric', metric: name, type, value, timestamp: options?.timestamp, tags },
      delivery,
    );
  }

  /** The sample's merged tags, trimmed to the budget; undefined when its identifying tags alone do not fit. */
  private fit(options: SubmitOptions | undefined): NormalizedTags | undefined {
    const merged = this.metricTags.merge(options?.tags, options?.identityTags);
    let entry = this.fitted.get(merged);
    if (entry === undefined || entry.budget !== this.tagBudget) {
      entry = { budget: this.tagBudget, fit: fitTags(merged, this.tagBudget) };
      this.fitted.set(merged, entry);
    }
    const fit = entry.fit;
    if (fit === undefined) return undefined;
    if (fit.dropped.length > 0) {
      this.counts.trimmed++;
      this.noteTrimmed(merged, fit.dropped);
    }
    return fit.tags;
  }

  private noteTrimmed(merged: Merged, dropped: readonly string[]): void {
    const run = this.trimmedThisRun;
    if (run.lists.has(merged)) return;
    run.lists.add(merged);
    run.series++;
    const identity = merged.tags.slice(0, Math.min(merged.identity, 2)).join(',');
    const keys = dropped.map((t) => t.split(':')[0]).slice(0, 5);
    run.example ??= `e.g. ${identity}: dropped ${dropped.length} tag(s) ${keys.join(', ')}${dropped.length > 5 ? ', …' : ''}`;
    if (!this.trimLogged) {
      this.trimLogged = true;
      this.options.logger.warn(`tags trimmed to fit a datagram: ${run.example}`);
    }
  }

  private reject(metric: string, what: 'name' | 'value' | 'tags', value: number): void {
    // Never NaN or Infinity on the wire; say so once per name rather than once per point.
    this.counts.rejected++;
    const key = `${metric}|${what}`;
    if (this.rejectedNames.has(key)) return;
    this.rejectedNames.add(key);
    const message =
      what === 'name'
        ? `metric name "${metric}" has no valid characters; dropped`
        : what === 'value'
          ? `metric ${metric} submitted a non-finite value (${value}); dropped`
          : `metric ${metric}: its identifying tags alone are longer than a datagram allows; dropped`;
    this.warning(message);
  }

  private metricName(metric: string): string | undefined {
    let name = this.names.get(metric);
    if (name === undefined && !this.names.has(metric)) {
      name = normalizeMetricName(this.options.namespace ? `${this.options.namespace}.${metric}` : metric);
      this.names.set(metric, name);
    }
    return name;
  }
}

/**
 * One delivery group of an instance. A class, not an object of closures: a run opens one per query,
 * and a group lives until its datagrams are sent, long enough to reach the old generation.
 */
class SubmitterDeliveryGroup implements DeliveryGroup {
  /** What the source submitted: its progress counts are a prefix only if the sinks took all of it. */
  private samples = 0;

  constructor(
    private readonly submitter: InstanceSubmitter,
    private readonly delivery: Delivery,
  ) {}

  gauge(metric: string, value: number, options?: SubmitOptions): void {
    this.samples++;
    this.submitter.groupMetric('gauge', metric, value, options, this.delivery);
  }

  count(metric: string, value: number, options?: SubmitOptions): void {
    this.samples++;
    this.submitter.groupMetric('count', metric, value, options, this.delivery);
  }

  event(title: string, text: string, options: EventOptions = {}): void {
    this.samples++;
    this.submitter.groupEvent(title, text, options, this.delivery);
  }

  settle(): Promise<void> {
    return this.delivery.settle();
  }

  onSettled(callback: (error?: Error, deliveredSamples?: number) => void, progress?: boolean): void {
    this.delivery.onSettled(callback, progress ? this.samples : undefined);
  }
}
