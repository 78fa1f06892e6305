import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';

/** The Agent's TCP logs listener, as far as dogwatch can tell: it reads lines. */
export class LineListener {
  readonly lines: string[] = [];
  /** Date.now() when each line of `lines` was read. */
  readonly arrivals: number[] = [];
  /** When the last bytes were read. */
  lastDataAt = 0;
  readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private partial = '';
  constructor(public port = 0) {}

  async start(): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        const parts = (this.partial + chunk).split('\n');
        this.partial = parts.pop() ?? '';
        this.lastDataAt = Date.now();
        this.lines.push(...parts);
        for (let i = 0; i < parts.length; i++) this.arrivals.push(this.lastDataAt);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
  }

  /** Stops listening and drops every connection, as an Agent restart does. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.partial = '';
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * An Agent crash: connections drop, and the lines read in the last `unprocessedMs` (still in the
   * Agent's own buffer, not yet forwarded) are gone. Returns them.
   */
  async crash(unprocessedMs: number): Promise<string[]> {
    const since = Date.now() - unprocessedMs;
    let keep = this.lines.length;
    while (keep > 0 && this.arrivals[keep - 1]! > since) keep--;
    const lost = this.lines.splice(keep);
    this.arrivals.splice(keep);
    await this.stop();
    return lost;
  }

  /** Resolves once nothing was read for `quietMs` (after at least one line), at most `timeoutMs`. */
  async quiet(quietMs: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0 || Date.now() - this.lastDataAt < quietMs) {
      if (Date.now() > deadline) assert.fail(`no quiet ${quietMs} ms within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Resolves as soon as bytes arrive after now (a burst has begun). */
  async burst(timeoutMs = 30_000): Promise<void> {
    const from = Date.now();
    const deadline = from + timeoutMs;
    while (this.lastDataAt < from) {
      if (Date.now() > deadline) assert.fail(`no data within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  async until(count: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      if (Date.now() > deadline) assert.fail(`received ${this.lines.length} of ${count} lines`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
