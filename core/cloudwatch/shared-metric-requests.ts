import type { CloudWatchClient, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { AwsCallStats, awsCallScope, type AwsCallScope } from '../aws/aws-call-stats.js';
import { withQueryId } from '../aws/get-metric-data-request.js';
import {
  type FetchedMetricData,
  MAX_QUERIES_PER_REQUEST,
  type QueryResult,
  requestMetricData,
  resultFrom,
} from './metric-data-fetcher.js';

/**
 * How long an instance's last, partly filled batch waits at most for instances that are still
 * discovering and planning (a first run's discovery can take minutes). An instance that has planned and
 * announced a partial batch is waited for without this bound: its batch comes after its full ones, within
 * its run. Only instances running at the same time on the same client are waited for, so an instance
 * running alone never waits.
 */
export const MAX_SHARE_WAIT_MS = 1_000;

/**
 * Shared GetMetricData requests: every instance packs its queries in 500-query batches, which leaves one
 * partly filled batch per instance and region; instances that share credentials, account and region
 * (the same cached SDK client) and run at the same time put those partial batches into shared requests,
 * so that a run makes the true minimum of requests: ceil(queries ÷ 500) per window end. The cost per
 * metric requested is unchanged; requests, quota use and latency drop.
 *
 * A request serves queries with the same window end; it starts at the earliest start among them, and
 * each instance gets back only the points of its own window. Ids are re-issued per request (each
 * instance's are unique only within its plan). The request is counted (attempts, throttles) for the
 * instance with the most queries in it; each instance counts its own queries as metrics requested. A
 * failed request fails every batch in it (each is fetched again next run); an instance whose run is
 * aborted stops waiting, and the request itself is aborted only when all of its instances are.
 */
export class SharedMetricRequests {
  private readonly clients = new Map<CloudWatchClient, ClientShare>();

  constructor(private readonly maxWaitMs = MAX_SHARE_WAIT_MS) {}

  /**
   * An instance's region run joins before it discovers and plans, so that the others wait for its
   * partial batch; it offers that batch through the ticket, or leaves if it has none.
   */
  join(client: CloudWatchClient): MetricRequestTicket {
    let share = this.clients.get(client);
    if (!share) {
      const created = new ClientShare(client, this.maxWaitMs, () => {
        if (this.clients.get(client) === created) this.clients.delete(client);
      });
      share = created;
      this.clients.set(client, share);
    }
    return share.join();
  }

  /** The tickets of one instance run, one per region. */
  forRun(clientOf: (region: string) => CloudWatchClient): RunRequests {
    return new RunRequests(this, clientOf);
  }
}

/** One instance run's tickets by region: joined up front where the regions are known, else on first use. */
export class RunRequests {
  private readonly tickets = new Map<string, MetricRequestTicket>();

  constructor(
    private readonly shared: SharedMetricRequests,
    private readonly clientOf: (region: string) => CloudWatchClient,
  ) {}

  joinAll(regions: readonly string[]): void {
    for (const region of regions) this.of(region);
  }

  of(region: string): MetricRequestTicket {
    let ticket = this.tickets.get(region);
    if (!ticket) this.tickets.set(region, (ticket = this.shared.join(this.clientOf(region))));
    return ticket;
  }

  leaveAll(): void {
    for (const ticket of this.tickets.values()) ticket.leave();
  }
}

/** One instance's place in the shared requests of one client, for one run. */
export class MetricRequestTicket {
  private open = true;
  private announced = false;

  constructor(
    private readonly share: ClientShare,
    private readonly client: CloudWatchClient,
  ) {}

  /**
   * One batch's request. A full batch goes at once, on its own; a partial one is the instance's last:
   * it is offered to the shared requests, and the ticket is done.
   */
  fetch(
    queries: readonly MetricDataQuery[],
    startMs: number,
    endMs: number,
    signal: AbortSignal,
  ): Promise<FetchedMetricData> {
    if (queries.length >= MAX_QUERIES_PER_REQUEST || !this.open)
      return this.alone(queries, startMs, endMs, signal);
    this.open = false;
    return this.share.offer(queries, startMs, endMs, signal, this.announced);
  }

  /**
   * Planned: this run has a partial batch, which it offers once its full batches are taken. The others
   * wait for it without the planning bound.
   */
  announce(): void {
    if (!this.open || this.announced) return;
    this.announced = true;
    this.share.announce();
  }

  /** No (more) partial batch from this instance: the others stop waiting for it. Idempotent. */
  leave(): void {
    if (!this.open) return;
    this.open = false;
    this.share.leave(this.announced);
  }

  private alone(
    queries: readonly MetricDataQuery[],
    startMs: number,
    endMs: number,
    signal: AbortSignal,
  ): Promise<FetchedMetricData> {
    const scope = awsCallScope.getStore();
    return requestMetricData(this.client, queries, startMs, endMs, signal, () => {
      if (scope) scope.stats.metricsRequested += queries.length;
    });
  }
}

/** A partial batch waiting for, or taking part in, shared requests. */
interface Offer {
  readonly queries: readonly MetricDataQuery[];
  readonly startMs: number;
  readonly endMs: number;
  readonly signal: AbortSignal;
  readonly scope: AwsCallScope | undefined;
  readonly results: QueryResult[];
  readonly unknownIds: string[];
  /** Queries not yet put into a request. */
  next: number;
  /** Requests with a part of it still on the wire. */
  inFlight: number;
  pages: number;
  done: boolean;
  resolve(fetched: FetchedMetricData): void;
  reject(error: unknown): void;
}

/** A run of an offer's queries inside one request: offer.queries[from, to) at request positions base… */
interface Segment {
  readonly offer: Offer;
  readonly from: number;
  readonly to: number;
  readonly base: number;
}

class ClientShare {
  /** Joined instances still discovering and planning: waited for at most maxWaitMs. */
  private planning = 0;
  /** Instances that announced a partial batch and have not offered it yet: waited for. */
  private announced = 0;
  private pending: Offer[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The planning bound passed for what is pending: it goes once no announced batch is awaited. */
  private boundPassed = false;

  constructor(
    private readonly client: CloudWatchClient,
    private readonly maxWaitMs: number,
    private readonly release: () => void,
  ) {}

  join(): MetricRequestTicket {
    this.planning++;
    return new MetricRequestTicket(this, this.client);
  }

  announce(): void {
    this.planning--;
    this.announced++;
    this.settleWaiting();
  }

  leave(announced: boolean): void {
    this.done(announced);
    this.settleWaiting();
  }

  private done(announced: boolean): void {
    if (announced) this.announced--;
    else this.planning--;
  }

  offer(
    queries: readonly MetricDataQuery[],
    startMs: number,
    endMs: number,
    signal: AbortSignal,
    announced: boolean,
  ): Promise<FetchedMetricData> {
    this.done(announced);
    const promise = new Promise<FetchedMetricData>((resolveOffer, rejectOffer) => {
      // Settled, the offer lets go of the run's signal: a signal outliving its run (an async context
      // kept by a socket) would otherwise keep the offer, its queries and results.
      const onAbort = (): void => this.abandon(offer);
      const resolve = (fetched: FetchedMetricData): void => {
        signal.removeEventListener('abort', onAbort);
        resolveOffer(fetched);
      };
      const reject = (error: unknown): void => {
        signal.removeEventListener('abort', onAbort);
        rejectOffer(error instanceof Error ? error : new Error(String(error)));
      };
      const offer: Offer = {
        queries,
        startMs,
        endMs,
        signal,
        scope: awsCallScope.getStore(),
        results: new Array<QueryResult>(queries.length),
        unknownIds: [],
        next: 0,
        inFlight: 0,
        pages: 0,
        done: false,
        resolve,
        reject,
      };
      if (signal.aborted) return reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.push(offer);
    });
    this.sendFull();
    this.settleWaiting();
    return promise;
  }

  /**
   * Everything pending goes once no announced batch is awaited and nobody is planning, or the planning
   * bound passed; until then it waits.
   */
  private settleWaiting(): void {
    if (this.pending.length === 0) {
      this.releaseIfIdle();
      return;
    }
    if (this.announced > 0) return;
    if (this.planning <= 0 || this.boundPassed) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.boundPassed = true;
      this.settleWaiting();
    }, this.maxWaitMs);
  }

  /** Requests that are already full go at once; the rest keeps waiting. */
  private sendFull(): void {
    for (const group of this.byWindowEnd()) {
      let queued = 0;
      for (const offer of group) queued += offer.queries.length - offer.next;
      while (queued >= MAX_QUERIES_PER_REQUEST) {
        this.send(group, MAX_QUERIES_PER_REQUEST);
        queued -= MAX_QUERIES_PER_REQUEST;
      }
    }
    this.pending = this.pending.filter((offer) => offer.next < offer.queries.length && !offer.done);
  }

  private flush(): void {
    this.resetWait();
    for (const group of this.byWindowEnd()) {
      for (;;) {
        const queued = group.reduce((n, offer) => n + offer.queries.length - offer.next, 0);
        if (queued === 0) break;
        this.send(group, Math.min(queued, MAX_QUERIES_PER_REQUEST));
      }
    }
    this.pending = [];
    this.releaseIfIdle();
  }

  private byWindowEnd(): Offer[][] {
    const groups = new Map<number, Offer[]>();
    for (const offer of this.pending) {
      if (offer.done) continue;
      let group = groups.get(offer.endMs);
      if (!group) groups.set(offer.endMs, (group = []));
      group.push(offer);
    }
    return [...groups.values()];
  }

  /** One request of `size` queries taken from the group's offers in order (an offer may span two). */
  private send(group: readonly Offer[], size: number): void {
    const segments: Segment[] = [];
    const queries: MetricDataQuery[] = [];
    for (const offer of group) {
      if (queries.length === size) break;
      const from = offer.next;
      const to = Math.min(offer.queries.length, from + size - queries.length);
      if (to === from) continue;
      segments.push({ offer, from, to, base: queries.length });
      for (let i = from; i < to; i++) queries.push(withQueryId(offer.queries[i]!, `s${queries.length}`));
      offer.next = to;
      offer.inFlight++;
    }
    void this.request(segments, queries);
  }

  private async request(segments: readonly Segment[], queries: readonly MetricDataQuery[]): Promise<void> {
    const startMs = Math.min(...segments.map((s) => s.offer.startMs));
    const endMs = segments[0]!.offer.endMs;
    const leader = segments.reduce((a, b) => (b.to - b.from > a.to - a.from ? b : a)).offer;
    const abort = new AbortController();
    const offers = [...new Set(segments.map((s) => s.offer))];
    const abortIfAllAborted = (): void => {
      if (offers.every((offer) => offer.signal.aborted)) abort.abort(leader.signal.reason);
    };
    for (const offer of offers) offer.signal.addEventListener('abort', abortIfAllAborted, { once: true });
    abortIfAllAborted();
    const scope: AwsCallScope = { stats: leader.scope?.stats ?? new AwsCallStats(), signal: abort.signal };
    let fetched: FetchedMetricData;
    try {
      fetched = await awsCallScope.run(scope, () =>
        requestMetricData(this.client, queries, startMs, endMs, abort.signal, () => {
          for (const s of segments) if (s.offer.scope) s.offer.scope.stats.metricsRequested += s.to - s.from;
        }),
      );
    } catch (error) {
      for (const offer of offers) this.fail(offer, error);
      return;
    } finally {
      for (const offer of offers) offer.signal.removeEventListener('abort', abortIfAllAborted);
    }
    leader.unknownIds.push(...fetched.unknownIds);
    for (const s of segments) {
      const offer = s.offer;
      for (let i = s.from; i < s.to; i++)
        offer.results[i] = resultFrom(fetched.results[s.base + i - s.from]!, offer.startMs);
      offer.pages = Math.max(offer.pages, fetched.pages);
      offer.inFlight--;
      if (offer.inFlight === 0 && offer.next === offer.queries.length && !offer.done) {
        offer.done = true;
        offer.resolve({ results: offer.results, unknownIds: offer.unknownIds, pages: offer.pages });
      }
    }
  }

  /** An offer whose run was aborted: it stops waiting; a request it is part of goes on for the others. */
  private abandon(offer: Offer): void {
    this.fail(offer, abortReason(offer.signal));
    this.pending = this.pending.filter((o) => o !== offer);
    if (this.pending.length === 0) {
      this.resetWait();
      this.releaseIfIdle();
    }
  }

  private fail(offer: Offer, error: unknown): void {
    if (offer.done) return;
    offer.done = true;
    offer.reject(error);
  }

  /** Nothing pending any more: the planning bound starts again with the next offer. */
  private resetWait(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.boundPassed = false;
  }

  /** Forgotten by the registry once nobody waits and nothing is pending (requests in flight need nothing). */
  private releaseIfIdle(): void {
    if (this.planning <= 0 && this.announced <= 0 && this.pending.length === 0) this.release();
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('the run was aborted');
}
