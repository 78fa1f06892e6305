/**
 * Real DogStatsD listeners for tests: a UDP socket on 127.0.0.1 and a unix datagram socket. They
 * record every datagram as received, so tests assert on the exact bytes on the wire, and hold every
 * one against the strict validator: `close()` fails the test if a single datagram was malformed or
 * oversized, whether or not the test looked at it.
 */
import dgram from 'node:dgram';
import { rmSync } from 'node:fs';
import unixDgram from 'unix-dgram';
import { validateDatagram } from './dogstatsd-validator.js';

/** Datagram size limits the sink promises (SPEC §5): UDP stays under a 1500-byte MTU, UDS under 8 KiB. */
export const UDP_MAX_DATAGRAM_BYTES = 1432;
export const UDS_MAX_DATAGRAM_BYTES = 8192;

export interface ListenerOptions {
  /** Largest valid datagram; default the transport's limit. `false`: record without validating. */
  readonly maxDatagramBytes?: number | false;
}

/** `count`: wait until at least that many lines arrived. A predicate sees every line so far. */
export type WaitCondition = number | ((lines: readonly string[], datagrams: readonly Buffer[]) => boolean);

export interface DogStatsdListener {
  /** Every datagram, in arrival order. */
  readonly datagrams: Buffer[];
  /** Every line of every datagram (split on `\n`), in arrival order. */
  lines(): string[];
  /** Resolves once the condition holds; rejects after `timeoutMs` (default 5000) saying what arrived. */
  waitFor(condition: WaitCondition, timeoutMs?: number): Promise<void>;
  /** Forgets what arrived so far. */
  clear(): void;
  /** Closes the socket; rejects if any datagram received was not valid DogStatsD. */
  close(): Promise<void>;
}

export interface UdpListener extends DogStatsdListener {
  readonly address: string;
  readonly port: number;
}

export interface UdsListener extends DogStatsdListener {
  readonly path: string;
}

class DatagramRecorder {
  readonly datagrams: Buffer[] = [];
  private readonly receivedLines: string[] = [];
  private waiters: Array<() => void> = [];
  private readonly invalid: string[] = [];
  private invalidCount = 0;

  constructor(private readonly maxDatagramBytes: number | false) {}

  record(datagram: Buffer): void {
    if (this.maxDatagramBytes !== false) {
      const errors = validateDatagram(datagram, this.maxDatagramBytes);
      if (errors.length > 0 && this.invalidCount++ < 5) this.invalid.push(errors.join('\n'));
    }
    this.datagrams.push(datagram);
    for (const line of datagram.toString('utf8').split('\n')) this.receivedLines.push(line);
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  lines(): string[] {
    return [...this.receivedLines];
  }

  /** Resolves after `closeSocket`, rejecting when an invalid datagram arrived at any time. */
  async close(closeSocket: () => Promise<void>): Promise<void> {
    await closeSocket();
    if (this.invalidCount > 0) {
      throw new Error(
        `listener received ${String(this.invalidCount)} invalid DogStatsD datagram(s); the first:\n` +
          this.invalid.join('\n---\n'),
      );
    }
  }

  clear(): void {
    this.datagrams.length = 0;
    this.receivedLines.length = 0;
  }

  waitFor(condition: WaitCondition, timeoutMs = 5000): Promise<void> {
    const holds = (): boolean =>
      typeof condition === 'number'
        ? this.receivedLines.length >= condition
        : condition(this.receivedLines, this.datagrams);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (holds()) {
          clearTimeout(timer);
          resolve();
        } else {
          this.waiters.push(check);
        }
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        const wanted = typeof condition === 'number' ? `${String(condition)} lines` : 'the condition';
        reject(
          new Error(
            `listener: waited ${String(timeoutMs)} ms for ${wanted}; got ${String(this.datagrams.length)} datagrams, ` +
              `${String(this.receivedLines.length)} lines`,
          ),
        );
      }, timeoutMs);
      check();
    });
  }
}

export interface UdpListenerOptions extends ListenerOptions {
  /** Bind this port (0 or absent: a random free one). */
  readonly port?: number;
}

export interface RestartableUdpListener extends UdpListener {
  /**
   * The Agent goes away: datagrams that already arrived are still read, new ones are refused with ICMP
   * port unreachable (the socket is connected to another peer, which a closed port also answers), then
   * the socket is closed. Nothing is lost inside the listener, so every loss a test sees is the sender's.
   */
  goDown(): Promise<void>;
  /** The Agent is back on the same port. */
  comeBack(): Promise<void>;
}

async function bindUdp(port: number, recorder: DatagramRecorder): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message) => recorder.record(message));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

/** A UDP listener on 127.0.0.1 (a random port unless given), with the OS-default receive buffer. */
export async function startUdpListener(options: UdpListenerOptions = {}): Promise<RestartableUdpListener> {
  const recorder = new DatagramRecorder(options.maxDatagramBytes ?? UDP_MAX_DATAGRAM_BYTES);
  let socket: dgram.Socket | undefined = await bindUdp(options.port ?? 0, recorder);
  const { address, port } = socket.address();
  const closeSocket = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const open = socket;
      socket = undefined;
      if (!open) return resolve();
      open.close(() => resolve());
    });
  return {
    address,
    port,
    datagrams: recorder.datagrams,
    lines: () => recorder.lines(),
    waitFor: (condition, timeoutMs) => recorder.waitFor(condition, timeoutMs),
    clear: () => recorder.clear(),
    async goDown() {
      const open = socket;
      if (!open) return;
      // A peer nobody uses: from now on the kernel refuses the sender's datagrams.
      await new Promise<void>((resolve) => open.connect(9, '127.0.0.2', () => resolve()));
      let count = -1;
      while (recorder.datagrams.length !== count) {
        count = recorder.datagrams.length;
        await new Promise((r) => setTimeout(r, 30));
      }
      await closeSocket();
    },
    async comeBack() {
      if (!socket) socket = await bindUdp(port, recorder);
    },
    close: () => recorder.close(closeSocket),
  };
}

/**
 * A unix datagram listener bound at `path` (the file must not exist). `close` closes the socket
 * and removes the file, as an Agent that stops does.
 */
export function startUdsListener(path: string, options: ListenerOptions = {}): Promise<UdsListener> {
  const recorder = new DatagramRecorder(options.maxDatagramBytes ?? UDS_MAX_DATAGRAM_BYTES);
  const socket = unixDgram.createSocket('unix_dgram', (message) => recorder.record(message));
  return new Promise((resolve, reject) => {
    // unix-dgram's bind emits synchronously.
    socket.once('error', reject);
    socket.once('listening', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      let closed = false;
      resolve({
        path,
        datagrams: recorder.datagrams,
        lines: () => recorder.lines(),
        waitFor: (condition, timeoutMs) => recorder.waitFor(condition, timeoutMs),
        clear: () => recorder.clear(),
        close: () =>
          recorder.close(() => {
            if (!closed) {
              closed = true;
              socket.close();
              rmSync(path, { force: true });
            }
            return Promise.resolve();
          }),
      });
    });
    socket.bind(path);
  });
}
