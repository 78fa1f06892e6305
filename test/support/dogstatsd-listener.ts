/**
 * Real DogStatsD listeners for tests: a UDP socket on 127.0.0.1 and a unix datagram socket. They
 * record every datagram as received, so tests assert on the exact bytes on the wire, and hold every
 * one against the strict validator: `close()` fails the test if a single datagram was malformed or
 * oversized, whether or not the test looked at it.
 */
import dgram from 'node:dgram';
import { readFileSync, rmSync } from 'node:fs';
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
  /**
   * The Agent goes away without losing what already reached its socket: the socket is connected to a
   * decoy, which makes Linux refuse every other sender's datagram (EPERM); what is in the buffer is read;
   * then the socket closes and its file is removed. Closing at once would drop the datagrams still in
   * the buffer, which the sender counted as delivered: a loss of the harness, not of the sender.
   */
  goDown(): Promise<void>;
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
  /**
   * SO_RCVBUF, as the Agent's `dogstatsd_so_rcvbuf` sets it (capped by net.core.rmem_max); absent: the
   * OS default. A listener that shares its process with the emulator can be kept from reading for
   * longer than a default buffer lasts.
   */
  readonly receiveBufferBytes?: number;
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
  /**
   * Datagrams the kernel dropped because this listener's receive buffer was full (Linux's per-socket
   * `drops` in /proc/net/udp, summed over every socket the listener bound): a loss no sender can see
   * over UDP, so a test tells it apart from the sender's. 0 where /proc is not there.
   */
  kernelDrops(): number;
}

/** The `drops` column of /proc/net/udp for the socket bound to 127.0.0.1:`port`, if any. */
function udpDropsOf(port: number): number {
  let table: string;
  try {
    table = readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return 0;
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const row of table.split('\n').slice(1)) {
    const fields = row.trim().split(/\s+/);
    if (fields[1] === local && fields[2] === '00000000:0000') return Number(fields[fields.length - 1]) || 0;
  }
  return 0;
}

async function bindUdp(
  port: number,
  recorder: DatagramRecorder,
  receiveBufferBytes: number | undefined,
): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: receiveBufferBytes });
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

/** A UDP listener on 127.0.0.1 (a random port unless given), with the OS-default receive buffer unless given. */
export async function startUdpListener(options: UdpListenerOptions = {}): Promise<RestartableUdpListener> {
  const recorder = new DatagramRecorder(options.maxDatagramBytes ?? UDP_MAX_DATAGRAM_BYTES);
  let socket: dgram.Socket | undefined = await bindUdp(
    options.port ?? 0,
    recorder,
    options.receiveBufferBytes,
  );
  const { address, port } = socket.address();
  /** Drops of the sockets closed so far (the kernel forgets a socket's count when it closes). */
  let closedDrops = 0;
  const closeSocket = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const open = socket;
      socket = undefined;
      if (!open) return resolve();
      closedDrops += udpDropsOf(port);
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
      if (!socket) socket = await bindUdp(port, recorder, options.receiveBufferBytes);
    },
    kernelDrops: () => closedDrops + (socket ? udpDropsOf(port) : 0),
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
      const closeSocket = (): void => {
        if (!closed) {
          closed = true;
          socket.close();
          rmSync(path, { force: true });
        }
      };
      resolve({
        path,
        async goDown() {
          if (closed) return;
          const decoyPath = `${path}.decoy`;
          rmSync(decoyPath, { force: true });
          const decoy = unixDgram.createSocket('unix_dgram');
          decoy.on('error', () => undefined);
          decoy.bind(decoyPath);
          socket.connect(decoyPath);
          let count = -1;
          while (recorder.datagrams.length !== count) {
            count = recorder.datagrams.length;
            await new Promise((r) => setTimeout(r, 30));
          }
          closeSocket();
          decoy.close();
          rmSync(decoyPath, { force: true });
        },
        datagrams: recorder.datagrams,
        lines: () => recorder.lines(),
        waitFor: (condition, timeoutMs) => recorder.waitFor(condition, timeoutMs),
        clear: () => recorder.clear(),
        close: () =>
          recorder.close(() => {
            closeSocket();
            return Promise.resolve();
          }),
      });
    });
    socket.bind(path);
  });
}
