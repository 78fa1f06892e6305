import { StatsD, type ClientOptions } from 'hot-shots';
import type { DatagramTransport } from './datagram-transport.js';

/**
 * The only use of a hot-shots method outside its typings. `StatsD#sendMessage` is the client's raw
 * path: it writes the buffer as one datagram, adds nothing (no global tags, no container id, no
 * buffering with maxBufferSize 0) and reports the socket's callback. The typed methods cannot be
 * used: they rebuild every line themselves, and `event()` counts JS characters instead of UTF-8 bytes.
 */
interface RawDatagramClient {
  sendMessage(message: string | Buffer, callback: (error?: Error | null) => void): void;
}

/**
 * DogStatsD over a unix datagram socket, through hot-shots (its native unix-dgram transport). A send
 * that succeeds has put the datagram in the Agent's socket buffer, so it is confirmed at once; the
 * socket reports an absent Agent (ECONNREFUSED, ENOENT) and a full one (EAGAIN) on the send itself.
 */
export class UdsTransport implements DatagramTransport {
  readonly description: string;
  readonly confirmation = { afterMs: 0, lastSendOnly: true } as const;
  onError: ((error: Error) => void) | undefined;
  private client: StatsD | undefined;

  constructor(private readonly path: string) {
    this.description = `unix://${path}`;
  }

  isOpen(): boolean {
    return this.client !== undefined;
  }

  open(): Promise<Error | undefined> {
    let openError: Error | undefined;
    let opening = true;
    const options: ClientOptions = {
      protocol: 'uds',
      path: this.path,
      // Raw datagrams only: no buffering, no client telemetry or origin detection mixed in.
      maxBufferSize: 0,
      datadog: false,
      includeDatadogTelemetry: false,
      closingFlushInterval: 1,
      // Reopening and backpressure are the sender's, with its queue: hot-shots' own graceful handling
      // reopens at most once a second and loses the datagram that hit the error, and its congestion
      // retry holds each datagram on a private timer.
      udsGracefulErrorHandling: false,
      udsRetryOptions: { retries: 0 },
      errorHandler: (error: Error) => {
        if (opening) openError ??= error;
        else this.onError?.(error);
      },
    };
    let client: StatsD;
    try {
      client = new StatsD(options);
    } catch (error) {
      return Promise.resolve(error instanceof Error ? error : new Error(String(error)));
    } finally {
      opening = false;
    }
    const socket: unknown = client.socket;
    if (openError !== undefined || socket === null || socket === undefined) {
      void closeClient(client);
      return Promise.resolve(openError ?? new Error('Socket not created'));
    }
    this.client = client;
    return Promise.resolve(undefined);
  }

  send(payload: Buffer): Promise<Error | undefined> {
    const client = this.client;
    if (!client) return Promise.resolve(Object.assign(new Error('not connected'), { code: 'ENOTCONN' }));
    return new Promise((resolve) => {
      try {
        (client as unknown as RawDatagramClient).sendMessage(payload, (error) => resolve(error ?? undefined));
      } catch (error) {
        resolve(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    return client ? closeClient(client) : Promise.resolve();
  }
}

function closeClient(client: StatsD): Promise<void> {
  return new Promise((resolve) => {
    try {
      client.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
