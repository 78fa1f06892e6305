import {
  GetMetricDataCommand,
  type CloudWatchClient,
  type GetMetricDataInput,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { EPOCH_SECONDS } from '../aws/lean-cloudwatch-codec.js';

/** GetMetricData's hard limit of queries per request. */
export const MAX_QUERIES_PER_REQUEST = 500;

export interface QueryResult {
  /** Period starts (ms) and values, ascending, same length. */
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
  /** Complete unless CloudWatch said otherwise (PartialData / InternalError / Forbidden) or data was bad. */
  readonly complete: boolean;
  readonly problems: readonly string[];
}

/** A QueryResult while its request's pages come in: the lists are made only when there is something. */
interface GatheredResult {
  timestamps: number[];
  values: number[];
  complete: boolean;
  problems: string[];
}
const NOTHING: never[] = Object.freeze([]) as never[];

function addProblem(target: GatheredResult, problem: string): void {
  if (target.problems === NOTHING) target.problems = [];
  target.problems.push(problem);
}

/** What one GetMetricData request (every page of it) answered, in the order of its queries. */
export interface FetchedMetricData {
  readonly results: QueryResult[];
  /** Ids in the answer that no query of the request had. */
  readonly unknownIds: string[];
  /** Pages followed (each page bills every query of the request again). */
  readonly pages: number;
}

/**
 * One GetMetricData request of ≤ 500 queries (Ids unique within it) over one window, every NextToken
 * followed, results matched back by query Id. Malformed parts of a response (unknown Ids, mismatched
 * lengths, non-numbers) are reported on the query and skipped; the rest is used. `onPage` runs for each
 * page answered, to count the metrics requested (each page bills every query again): a request shared by
 * several instances credits each with its own queries (see SharedMetricRequests).
 */
export async function requestMetricData(
  client: CloudWatchClient,
  metricDataQueries: readonly MetricDataQuery[],
  startMs: number,
  endMs: number,
  signal: AbortSignal,
  onPage: () => void,
): Promise<FetchedMetricData> {
  if (metricDataQueries.length > MAX_QUERIES_PER_REQUEST)
    throw new Error(`at most ${MAX_QUERIES_PER_REQUEST} queries per request`);
  // The collector is built once the answer is there: objects made before the call would live through
  // its wait (rate limit, network) and be promoted to the old generation, then die there every run.
  let collector: ResultCollector | undefined;
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const input: GetMetricDataInput & { [EPOCH_SECONDS]?: true } = {
      MetricDataQueries: metricDataQueries as MetricDataQuery[],
      StartTime: new Date(startMs),
      EndTime: new Date(endMs),
      ScanBy: 'TimestampAscending',
      NextToken: nextToken,
    };
    // Timestamps as the wire's epoch seconds, not a Date per point (the SDK's own decoding gives Dates).
    input[EPOCH_SECONDS] = true;
    const response = await client.send(new GetMetricDataCommand(input), { abortSignal: signal });
    pages++;
    onPage();
    const page = response.MetricDataResults;
    if (page !== undefined && !Array.isArray(page))
      throw new Error('malformed GetMetricData response: MetricDataResults is not a list');
    collector ??= new ResultCollector(metricDataQueries);
    collector.absorbPage(page ?? []);
    nextToken = response.NextToken || undefined;
  } while (nextToken);
  return { ...(collector ?? new ResultCollector(metricDataQueries)).finish(), pages };
}

/** Gathers the pages of one request into one result per query, in request order. */
class ResultCollector {
  private readonly results: GatheredResult[];
  private readonly lastStatus: (string | undefined)[];
  private readonly answered: boolean[];
  private positions: Map<string, number> | undefined;
  private readonly unknownIds: string[] = [];

  constructor(private readonly requests: readonly MetricDataQuery[]) {
    this.results = requests.map(() => ({
      timestamps: NOTHING,
      values: NOTHING,
      complete: true,
      problems: NOTHING,
    }));
    this.lastStatus = requests.map(() => undefined);
    this.answered = requests.map(() => false);
  }

  absorbPage(page: readonly MetricDataResult[]): void {
    // Results usually come back in request order: a position is looked up only when they do not.
    let expected = 0;
    for (const result of page) {
      let index: number | undefined;
      if (expected < this.requests.length && result.Id === this.requests[expected]!.Id) {
        index = expected;
      } else {
        this.positions ??= new Map(this.requests.map((q, i) => [q.Id!, i]));
        index = typeof result.Id === 'string' ? this.positions.get(result.Id) : undefined;
      }
      if (index === undefined) {
        this.unknownIds.push(String(result.Id));
        continue;
      }
      expected = index + 1;
      absorb(this.results[index]!, result);
      this.lastStatus[index] = typeof result.StatusCode === 'string' ? result.StatusCode : undefined;
      this.answered[index] = true;
    }
  }

  finish(): { results: QueryResult[]; unknownIds: string[] } {
    for (let i = 0; i < this.results.length; i++) {
      const r = this.results[i]!;
      const status = this.lastStatus[i];
      if (!this.answered[i]) {
        // No entry at all is not an empty answer: the window is asked again.
        r.complete = false;
        addProblem(r, 'the response had no result for this query');
      } else if (status !== undefined && status !== 'Complete') {
        r.complete = false;
        addProblem(r, `CloudWatch status ${status}`);
      }
    }
    return { results: this.results, unknownIds: this.unknownIds };
  }
}

/**
 * One result's points into its query's lists. Timestamps are Dates (the SDK's decoding) or the wire's
 * epoch seconds (the lean codec's, see EPOCH_SECONDS), converted to ms as the SDK rounds them.
 */
function absorb(target: GatheredResult, result: MetricDataResult): void {
  const timestamps: readonly unknown[] = Array.isArray(result.Timestamps) ? result.Timestamps : [];
  const values: readonly unknown[] = Array.isArray(result.Values) ? result.Values : [];
  if (timestamps.length !== values.length) {
    target.complete = false;
    addProblem(target, `${timestamps.length} timestamps but ${values.length} values; extra entries skipped`);
  }
  if (Array.isArray(result.Messages))
    for (const message of result.Messages as unknown[]) {
      const { Code, Value } = (message ?? {}) as { Code?: unknown; Value?: unknown };
      addProblem(
        target,
        `${typeof Code === 'string' ? Code : ''} ${typeof Value === 'string' ? Value : ''}`.trim(),
      );
    }
  const n = Math.min(timestamps.length, values.length);
  if (n === 0) return;
  if (
    target.timestamps === NOTHING &&
    n === timestamps.length &&
    n === values.length &&
    allWellFormed(timestamps, values)
  ) {
    // The usual case, one page and nothing malformed: lists of exactly the right length, the values as parsed.
    target.timestamps = timestamps.map(millisecondsOf);
    target.values = values as number[];
    return;
  }
  if (target.timestamps === NOTHING) target.timestamps = [];
  if (target.values === NOTHING) target.values = [];
  for (let i = 0; i < n; i++) {
    const t = millisecondsOf(timestamps[i]);
    const v = values[i];
    if (!Number.isFinite(t) || typeof v !== 'number' || !Number.isFinite(v)) {
      target.complete = false;
      addProblem(target, `skipped a malformed datapoint (${String(timestamps[i])}, ${String(v)})`);
      continue;
    }
    target.timestamps.push(t);
    target.values.push(v);
  }
}

/** A timestamp as the SDK decodes it (a Date) or as the wire has it (epoch seconds), in ms; NaN otherwise. */
function millisecondsOf(stamp: unknown): number {
  return typeof stamp === 'number' ? Math.round(stamp * 1000) : stamp instanceof Date ? stamp.getTime() : NaN;
}

function allWellFormed(timestamps: readonly unknown[], values: readonly unknown[]): boolean {
  for (let i = 0; i < timestamps.length; i++) {
    const v = values[i];
    if (!Number.isFinite(millisecondsOf(timestamps[i])) || typeof v !== 'number' || !Number.isFinite(v))
      return false;
  }
  return true;
}

/** A result without the points before `startMs` (a shared request starts at its earliest window). */
export function resultFrom(result: QueryResult, startMs: number): QueryResult {
  let skip = 0;
  while (skip < result.timestamps.length && result.timestamps[skip]! < startMs) skip++;
  if (skip === 0) return result;
  return {
    timestamps: result.timestamps.slice(skip),
    values: result.values.slice(skip),
    complete: result.complete,
    problems: result.problems,
  };
}
