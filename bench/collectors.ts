/**
 * The two baseline collectors, minimal and honest: the real AWS SDK against the same emulator, the same
 * (series × statistic) queries as dogwatch's plan, the same tags and metric names, emitted with
 * hot-shots' typed methods (buffered to the Agent-recommended datagram size, as a user would set it).
 *
 * - naive: cloudwatch_exporter's default style. One GetMetricStatistics per (series, statistic) per run,
 *   window [now − delay − range, now − delay) with its defaults range_seconds 600 and delay_seconds 600,
 *   newest point kept.
 * - overlap: YACE's defaults. GetMetricData in batches of 500 over a 5-minute window ending now
 *   (length 300, delay 0, rounded to the period), re-requested every run, newest point per query kept.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
  type Statistic,
} from '@aws-sdk/client-cloudwatch';
import { Agent as HttpAgent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { StatsD } from 'hot-shots';

export interface BaselineQuery {
  readonly key: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly { Name: string; Value: string }[];
  readonly statistic: string;
  readonly rows: readonly { readonly name: string; readonly type: 'gauge' | 'count' }[];
  readonly tags: readonly string[];
}

export interface EmitCounters {
  points: number;
  distinct: number;
  datagrams: number;
  bytes: number;
  maxDatagramBytes: number;
}

export type FreshnessRecorder = (ageSeconds: number) => void;

const BASIC = new Set(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);

export function makeCloudWatchClient(endpoint: string): CloudWatchClient {
  return new CloudWatchClient({
    region: 'us-east-1',
    endpoint,
    maxAttempts: 8,
    requestHandler: new NodeHttpHandler({ httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }) }),
  });
}

/** A hot-shots client whose datagrams are counted as they leave. */
export function makeStatsd(
  transport: 'udp' | 'uds',
  target: { port: number; path: string },
  counters: EmitCounters,
): StatsD {
  const client =
    transport === 'udp'
      ? new StatsD({
          host: '127.0.0.1',
          port: target.port,
          maxBufferSize: 1432,
          errorHandler: () => undefined,
        })
      : new StatsD({
          protocol: 'uds',
          path: target.path,
          maxBufferSize: 8192,
          errorHandler: () => undefined,
        });
  const socket = client.socket as unknown as { send: (buf: Buffer, cb: (e?: Error) => void) => void };
  const original = socket.send.bind(socket);
  socket.send = (buf, cb) => {
    counters.datagrams++;
    counters.bytes += buf.length;
    if (buf.length > counters.maxDatagramBytes) counters.maxDatagramBytes = buf.length;
    original(buf, cb);
  };
  return client;
}

/** Flushes hot-shots' buffer and waits until every datagram was handed to the OS. */
export async function drainStatsd(client: StatsD): Promise<void> {
  const state = client as unknown as { messagesInFlight: number; flushQueue(): void };
  state.flushQueue();
  const deadline = Date.now() + 10_000;
  while (state.messagesInFlight > 0 && Date.now() < deadline)
    await new Promise((resolve) => setImmediate(resolve));
}

async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, () => worker()));
}

/** ListMetrics of every namespace, every page (both baselines discover like this). */
export async function discover(client: CloudWatchClient, namespaces: readonly string[]): Promise<number> {
  let found = 0;
  for (const Namespace of namespaces) {
    let NextToken: string | undefined;
    do {
      const page = await client.send(
        new ListMetricsCommand({ Namespace, NextToken, RecentlyActive: 'PT3H' }),
      );
      found += page.Metrics?.length ?? 0;
      NextToken = page.NextToken || undefined;
    } while (NextToken);
  }
  return found;
}

export class BaselineCollector {
  private readonly lastEmitted = new Map<string, number>();
  failures = 0;

  constructor(
    readonly kind: 'naive' | 'overlap',
    private readonly client: CloudWatchClient,
    private readonly queries: readonly BaselineQuery[],
    private readonly now: () => number,
  ) {}

  async run(statsd: StatsD, counters: EmitCounters, fresh: FreshnessRecorder): Promise<void> {
    if (this.kind === 'naive') await this.runNaive(statsd, counters, fresh);
    else await this.runOverlap(statsd, counters, fresh);
    await drainStatsd(statsd);
  }

  private emit(
    q: BaselineQuery,
    t: number,
    value: number,
    statsd: StatsD,
    counters: EmitCounters,
    fresh: FreshnessRecorder,
  ): void {
    const timestamp = t / 1000;
    for (const row of q.rows) {
      if (row.type === 'count') statsd.increment(row.name, value, { tags: q.tags as string[], timestamp });
      else statsd.gauge(row.name, value, { tags: q.tags as string[], timestamp });
      counters.points++;
      fresh(this.now() / 1000 - (timestamp + 60));
    }
    const last = this.lastEmitted.get(q.key);
    if (last === undefined || t > last) {
      counters.distinct += q.rows.length;
      this.lastEmitted.set(q.key, t);
    }
  }

  private async runNaive(statsd: StatsD, counters: EmitCounters, fresh: FreshnessRecorder): Promise<void> {
    const end = Math.floor((this.now() - 600_000) / 60_000) * 60_000;
    const start = end - 600_000;
    await pool(this.queries, 16, async (q) => {
      try {
        const basic = BASIC.has(q.statistic);
        const out = await this.client.send(
          new GetMetricStatisticsCommand({
            Namespace: q.namespace,
            MetricName: q.metricName,
            Dimensions: [...q.dimensions],
            StartTime: new Date(start),
            EndTime: new Date(end),
            Period: 60,
            ...(basic ? { Statistics: [q.statistic as Statistic] } : { ExtendedStatistics: [q.statistic] }),
          }),
        );
        let newest: { t: number; v: number } | undefined;
        for (const dp of out.Datapoints ?? []) {
          const t = dp.Timestamp?.getTime();
          const v = basic
            ? (dp as Record<string, unknown>)[q.statistic]
            : dp.ExtendedStatistics?.[q.statistic];
          if (t === undefined || typeof v !== 'number') continue;
          if (!newest || t > newest.t) newest = { t, v };
        }
        if (newest) this.emit(q, newest.t, newest.v, statsd, counters, fresh);
      } catch {
        this.failures++;
      }
    });
  }

  private async runOverlap(statsd: StatsD, counters: EmitCounters, fresh: FreshnessRecorder): Promise<void> {
    const end = Math.floor(this.now() / 60_000) * 60_000;
    const start = end - 300_000;
    const batches: BaselineQuery[][] = [];
    for (let i = 0; i < this.queries.length; i += 500) batches.push(this.queries.slice(i, i + 500));
    await pool(batches, 5, async (batch) => {
      try {
        const newest: ({ t: number; v: number } | undefined)[] = batch.map(() => undefined);
        let NextToken: string | undefined;
        do {
          const out = await this.client.send(
            new GetMetricDataCommand({
              StartTime: new Date(start),
              EndTime: new Date(end),
              NextToken,
              MetricDataQueries: batch.map((q, i) => ({
                Id: `m${i}`,
                MetricStat: {
                  Metric: { Namespace: q.namespace, MetricName: q.metricName, Dimensions: [...q.dimensions] },
                  Period: 60,
                  Stat: q.statistic,
                },
              })),
            }),
          );
          for (const r of out.MetricDataResults ?? []) {
            const i = Number(r.Id?.slice(1));
            const ts = r.Timestamps ?? [];
            const vs = r.Values ?? [];
            for (let k = 0; k < ts.length; k++) {
              const t = ts[k]!.getTime();
              const cur = newest[i];
              if (!cur || t > cur.t) newest[i] = { t, v: vs[k]! };
            }
          }
          NextToken = out.NextToken || undefined;
        } while (NextToken);
        batch.forEach((q, i) => {
          const p = newest[i];
          if (p) this.emit(q, p.t, p.v, statsd, counters, fresh);
        });
      } catch {
        this.failures++;
      }
    });
  }
}
