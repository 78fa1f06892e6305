import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import type { DatagramTransport } from './datagram-transport.js';

/** A host name is looked up again this often; a moved Agent is found again after it. */
const RESOLVE_EVERY_MS = 60_000;
/**
 * How long a datagram waits for a refusal before it counts as delivered. An ICMP port-unreachable
 * comes back after one network round trip; on loopback the kernel raises it while sending, but on a
 * loaded machine the softirq that does so can run later, hence a margin. Waiting costs no throughput (batches are confirmed while the next ones are sent).
 */
const LOOPBACK_CONFIRM_MS = 50;
const REMOTE_CONFIRM_MS = 200;

/**
 * DogStatsD over UDP on a *connected* socket, written with node:dgram. Only a connected socket hears
 * the ICMP port-unreachable an absent Agent answers with: Linux reports it on the next send or read
 * as ECONNREFUSED. hot-shots cannot connect its UDP socket (it passes the address on every send), so
 * this transport does not use it.
 *
 * A refusal cannot be laid on one datagram for sure, so every datagram sent within the confirmation
 * window before it counts as lost (its batch is fetched and sent again: a datagram that did arrive is
 * then sent twice, which Datadog keeps as one point). What UDP cannot tell at all: an Agent whose
 * receive buffer is full, one that dies with datagrams still in its buffer, a firewall that drops
 * instead of refusing, loss on the network.
 */
export class UdpTransport implements DatagramTransport {
  readonly description: string;
  readonly confirmation: { readonly afterMs: number; readonly lastSendOnly: boolean };
  onError: ((error: Error) => void) | undefined;
  private socket: dgram.Socket | undefined;
  private resolvedAt = 0;
  private readonly isName: boolean;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.description = `udp://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    this.isName = net.isIP(host) === 0;
    const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
    this.confirmation = { afterMs: loopback ? LOOPBACK_CONFIRM_MS : REMOTE_CONFIRM_MS, lastSendOnly: false };
  }

  isOpen(): boolean {
    return this.socket !== undefined && !(this.isName && Date.now() - this.resolvedAt > RESOLVE_EVERY_MS);
  }

  async open(): Promise<Error | undefined> {
    await this.close();
    let address = this.host;
    let family = net.isIP(this.host);
    try {
      if (family === 0) ({ address, family } = await dns.lookup(this.host));
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    socket.unref();
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(this.port, address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      socket.close();
      return error instanceof Error ? error : new Error(String(error));
    }
    socket.on('error', (error) => {
      if (this.socket === socket) this.onError?.(error);
    });
    this.socket = socket;
    this.resolvedAt = Date.now();
    return undefined;
  }

  send(payload: Buffer): Promise<Error | undefined> {
    const socket = this.socket;
    if (!socket) return Promise.resolve(Object.assign(new Error('not connected'), { code: 'ENOTCONN' }));
    return new Promise((resolve) => {
      try {
        socket.send(payload, (error) => resolve(error ?? undefined));
      } catch (error) {
        resolve(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
