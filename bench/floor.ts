/**
 * The machine's floor for dogwatch's work (issue 19): the least a process must do to deliver what
 * dogwatch delivered in one steady run, measured in the same bench run so that dogwatch ÷ floor survives
 * a noisy or different machine.
 *
 * The work is captured from dogwatch itself: the GetMetricData exchanges of one steady run (request
 * headers and body, response body, recorded inside the emulator) and every DogStatsD line the listener
 * received in that run. Per run, the floor then does:
 * - the same HTTP round trips to the emulator: node:http, a keep-alive agent, the captured request
 *   headers and bodies (the same bytes), under the same GetMetricData quota (a TokenBucket at 50/s);
 *   the emulator answers each with the response it gave dogwatch (bench/run.ts);
 * - JSON.parse of each response body;
 * - every captured line that came from a response, formatted again from the parsed values
 *   (name, value, `|c`/`|g`, `|#tags`, `|T<ts>`); the few others (dogwatch's own telemetry) are sent as
 *   captured;
 * - packing into datagrams of at most 1,432 bytes sent on a connected UDP socket, or (the runs over
 *   UDS, as dogwatch's alternate) 8,192 bytes on a unix datagram socket, to the bench's listener in
 *   another process, paced like dogwatch's sink (8 datagrams a millisecond).
 * It skips what is not essential to that work: no SDK, no signing (the headers are replayed), no request
 * encoding, no plan, no cursors, no delivery accounting.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Agent, request as httpRequest } from 'node:http';
import { TokenBucket } from '../core/aws/token-bucket.js';
import { TagNormalizer } from '../core/check/normalize.js';
import { formatMetricValue, tagSection } from '../core/sink/dogstatsd-format.js';
import { classifySendError } from '../core/sink/datagram-transport.js';
import { UdsTransport } from '../core/sink/uds-transport.js';
import type { BaselineQuery } from './collectors.js';

/** One GetMetricData call of dogwatch's, as the emulator saw it. */
export interface CapturedExchange {
  /** Request headers as sent (hop-by-hop ones and content-length left out). */
  readonly headers: Readonly<Record<string, string>>;
  readonly request: string;
  readonly response: string;
}

/** The largest UDP datagram dogwatch sends (the Agent's recommended size), and so the floor's. */
export const FLOOR_MAX_DATAGRAM_BYTES = 1432;
/** The largest datagram dogwatch sends over UDS (the Agent's limit), and so the floor's there. */
export const FLOOR_MAX_UDS_DATAGRAM_BYTES = 8192;
/** After a unix socket said its receiver is full (EAGAIN), the next try waits this long. */
const CONGESTED_PAUSE_MS = 1;
/** dogwatch's sink pacing defaults: that many datagrams, then a 1 ms pause (see BENCHMARKS.md). */
const PACE_DATAGRAMS = 8;
const PACE_MS = 1;
/** dogwatch's default GetMetricData rate limit per account and region, which the emulator enforces. */
const GET_METRIC_DATA_RATE = 50;
const CONCURRENCY = 8;

/** A line to format from a parsed response: `head + value + tail + floor(timestamp)`. */
interface LineRecipe {
  readonly result: number;
  readonly id: string;
  readonly point: number;
  /** `name:` */
  readonly head: string;
  /** `|c|#tags|T` or `|g|#tags|T` */
  readonly tail: string;
}

export interface FloorWork {
  readonly requests: readonly { readonly headers: Record<string, string>; readonly body: Buffer }[];
  /** Per exchange, the lines its response yields. */
  readonly recipes: readonly (readonly LineRecipe[])[];
  /** Captured lines that no response yields (dogwatch's self-telemetry): sent as they are. */
  readonly verbatim: readonly string[];
  readonly linesFormatted: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

interface ParsedResponse {
  readonly MetricDataResults: readonly {
    readonly Id: string;
    readonly Timestamps: readonly number[];
    readonly Values: readonly number[];
  }[];
}

interface ParsedRequest {
  readonly MetricDataQueries: readonly {
    readonly Id: string;
    readonly MetricStat?: {
      readonly Metric: {
        readonly Namespace: string;
        readonly MetricName: string;
        readonly Dimensions?: readonly { Name: string; Value: string }[];
      };
      readonly Stat: string;
    };
  }[];
}

function seriesKey(
  namespace: string,
  metricName: string,
  dimensions: readonly { Name: string; Value: string }[],
  statistic: string,
): string {
  const dims = dimensions
    .map((d) => `${d.Name}=${d.Value}`)
    .sort()
    .join(',');
  return `${namespace}|${metricName}|${dims}|${statistic}`;
}

/** `line` out of `counts` if it is there (a multiset of the captured lines). */
function take(counts: Map<string, number>, line: string): boolean {
  const n = counts.get(line);
  if (n === undefined) return false;
  if (n === 1) counts.delete(line);
  else counts.set(line, n - 1);
  return true;
}

/**
 * What the floor does per run, derived (once, unmeasured) from the captured run and dogwatch's plan:
 * which point of which response result becomes which line. Only lines dogwatch actually sent are kept,
 * so the floor formats exactly those, once each.
 */
export function buildFloorWork(
  exchanges: readonly CapturedExchange[],
  plan: readonly BaselineQuery[],
  lines: readonly string[],
): FloorWork {
  // The tags as dogwatch's runtime puts them on the wire (normalised, `host:` last; the bench's
  // instances have no tags of their own). A line built otherwise is simply not matched: it is then sent
  // as captured, and lines_formatted in the results shows it.
  const normalizer = new TagNormalizer([], { noHost: true });
  const byKey = new Map(
    plan.map((q) => [
      seriesKey(q.namespace, q.metricName, q.dimensions, q.statistic),
      q.rows.map((row) => ({
        head: `${row.name}:`,
        tail: `${row.type === 'count' ? '|c' : '|g'}${tagSection(normalizer.merge(q.tags).tags)}|T`,
      })),
    ]),
  );
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  let linesFormatted = 0;
  const recipes = exchanges.map((exchange) => {
    const request = JSON.parse(exchange.request) as ParsedRequest;
    const stats = new Map(request.MetricDataQueries.map((q) => [q.Id, q.MetricStat]));
    const response = JSON.parse(exchange.response) as ParsedResponse;
    const out: LineRecipe[] = [];
    response.MetricDataResults.forEach((r, result) => {
      const stat = stats.get(r.Id);
      const rows =
        stat &&
        byKey.get(
          seriesKey(stat.Metric.Namespace, stat.Metric.MetricName, stat.Metric.Dimensions ?? [], stat.Stat),
        );
      if (!rows) return;
      for (let point = 0; point < r.Timestamps.length; point++) {
        const value = formatMetricValue(r.Values[point]!);
        if (value === undefined) continue;
        for (const { head, tail } of rows)
          if (take(counts, head + value + tail + String(Math.floor(r.Timestamps[point]!)))) {
            out.push({ result, id: r.Id, point, head, tail });
            linesFormatted++;
          }
      }
    });
    return out;
  });
  const verbatim: string[] = [];
  for (const [line, n] of counts) for (let i = 0; i < n; i++) verbatim.push(line);
  return {
    requests: exchanges.map((e) => ({ headers: { ...e.headers }, body: Buffer.from(e.request, 'utf8') })),
    recipes,
    verbatim,
    linesFormatted,
    requestBytes: exchanges.reduce((n, e) => n + Buffer.byteLength(e.request), 0),
    responseBytes: exchanges.reduce((n, e) => n + Buffer.byteLength(e.response), 0),
  };
}

/**
 * Lines joined by `\n` into datagrams of at most `maxBytes`, written straight into the datagram's
 * buffer. A line longer than `maxBytes` goes alone (dogwatch drops such lines; it sends none).
 */
export class FloorPacker {
  private buffer = Buffer.allocUnsafe(0);
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onDatagram: (payload: Buffer) => void,
  ) {}

  add(line: string): void {
    const length = Buffer.byteLength(line, 'utf8');
    if (this.bytes > 0 && this.bytes + 1 + length > this.maxBytes) this.seal();
    if (this.bytes === 0) this.buffer = Buffer.allocUnsafe(Math.max(this.maxBytes, length));
    else this.buffer[this.bytes++] = 0x0a;
    this.bytes += this.buffer.write(line, this.bytes, 'utf8');
  }

  seal(): void {
    if (this.bytes === 0) return;
    const payload = this.buffer.subarray(0, this.bytes);
    this.bytes = 0;
    this.onDatagram(payload);
  }
}

/** Formats the lines of one response (already parsed) into the packer; returns how many are timestamped. */
export function formatResponse(
  recipes: readonly LineRecipe[],
  parsed: ParsedResponse,
  packer: FloorPacker,
): number {
  const results = parsed.MetricDataResults;
  for (const recipe of recipes) {
    const r = results[recipe.result];
    // Results are mapped back by Id, as any client of GetMetricData must.
    if (r === undefined || r.Id !== recipe.id) throw new Error(`floor: response result ${recipe.id} moved`);
    packer.add(
      recipe.head +
        formatMetricValue(r.Values[recipe.point]!)! +
        recipe.tail +
        String(Math.floor(r.Timestamps[recipe.point]!)),
    );
  }
  return recipes.length;
}

export interface FloorRunCounters {
  points: number;
  datagrams: number;
  bytes: number;
  maxDatagramBytes: number;
  throttledRetries: number;
}

/**
 * Sends datagrams one at a time (the next once the socket took the previous), PACE_DATAGRAMS in a slice,
 * then PACE_MS apart: dogwatch's pace, which a listener in another process on this machine keeps up with.
 */
class PacedSender {
  private readonly queue: Buffer[] = [];
  private head = 0;
  private pumping: Promise<void> | undefined;

  constructor(private readonly send: (payload: Buffer) => Promise<void>) {}

  push(payload: Buffer): void {
    this.queue.push(payload);
    this.pumping ??= this.pump();
  }

  private async pump(): Promise<void> {
    while (this.head < this.queue.length) {
      const end = Math.min(this.queue.length, this.head + PACE_DATAGRAMS);
      for (; this.head < end; this.head++) {
        await this.send(this.queue[this.head]!);
      }
      if (this.head < this.queue.length) await new Promise((resolve) => setTimeout(resolve, PACE_MS));
    }
    this.queue.length = 0;
    this.head = 0;
    this.pumping = undefined;
  }

  /** Resolves once every queued datagram was handed to the socket. */
  async drained(): Promise<void> {
    while (this.pumping) await this.pumping;
  }
}

export class FloorCollector {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  private readonly url: URL;

  private constructor(
    private readonly work: FloorWork,
    endpoint: string,
    private readonly socket: Socket,
    private readonly unix: UdsTransport,
  ) {
    this.url = new URL(endpoint);
  }

  static async open(
    work: FloorWork,
    endpoint: string,
    udpPort: number,
    udsPath: string,
  ): Promise<FloorCollector> {
    const socket = createSocket('udp4');
    // A refusal (no listener) must not kill the process; the listener's counts show any loss.
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.connect(udpPort, '127.0.0.1', resolve));
    // The same native unix datagram socket dogwatch writes through (hot-shots' unix-dgram, raw sends).
    const unix = new UdsTransport(udsPath);
    const error = await unix.open();
    if (error) throw new Error(`floor: cannot open unix://${udsPath}: ${error.message}`);
    return new FloorCollector(work, endpoint, socket, unix);
  }

  /** One run of the captured work, over UDP or over the unix datagram socket. */
  async run(counters: FloorRunCounters, transport: 'udp' | 'uds' = 'udp'): Promise<void> {
    const sender = new PacedSender(
      transport === 'udp'
        ? (payload) => new Promise<void>((resolve) => this.socket.send(payload, () => resolve()))
        : (payload) => this.sendUnix(payload),
    );
    const maxBytes = transport === 'udp' ? FLOOR_MAX_DATAGRAM_BYTES : FLOOR_MAX_UDS_DATAGRAM_BYTES;
    const packer = new FloorPacker(maxBytes, (payload) => {
      counters.datagrams++;
      counters.bytes += payload.length;
      if (payload.length > counters.maxDatagramBytes) counters.maxDatagramBytes = payload.length;
      sender.push(payload);
    });
    const bucket = new TokenBucket(GET_METRIC_DATA_RATE);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.work.requests.length) {
        const i = next++;
        await bucket.take();
        const parsed = JSON.parse(await this.post(i, bucket, counters)) as ParsedResponse;
        counters.points += formatResponse(this.work.recipes[i]!, parsed, packer);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
    for (const line of this.work.verbatim) {
      packer.add(line);
      if (line.includes('|T')) counters.points++;
    }
    packer.seal();
    await sender.drained();
  }

  /** The response body of request `i`; a throttled call is retried (and counted). */
  private async post(i: number, bucket: TokenBucket, counters: FloorRunCounters): Promise<string> {
    const { headers, body } = this.work.requests[i]!;
    for (;;) {
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            agent: this.agent,
            host: this.url.hostname,
            port: this.url.port,
            method: 'POST',
            path: '/',
            headers: { ...headers, 'content-length': body.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      if (status === 200) return text;
      if (!text.includes('Throttl')) throw new Error(`floor: GetMetricData answered ${status}: ${text}`);
      counters.throttledRetries++;
      await bucket.take();
    }
  }

  /** A unix datagram: a full receiver (EAGAIN) is waited for, as dogwatch's sender does; nothing is dropped. */
  private async sendUnix(payload: Buffer): Promise<void> {
    for (;;) {
      const error = await this.unix.send(payload);
      if (error === undefined) return;
      if (classifySendError(error) !== 'congested')
        throw new Error(`floor: unix datagram send failed: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, CONGESTED_PAUSE_MS));
    }
  }

  close(): void {
    this.agent.destroy();
    this.socket.close();
    void this.unix.close();
  }
}
