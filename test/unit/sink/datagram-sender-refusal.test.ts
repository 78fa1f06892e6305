/**
 * The UDP sender's confirmation against the event loop's phase order. A refusal (ICMP port
 * unreachable) reaches a connected UDP socket as an I/O event, read in the poll phase; the
 * confirmation window is a timer, run in the timers phase, which comes first. A process that does not
 * run for a while (a loaded machine) finds both due at once: the timer must not confirm a datagram
 * whose refusal is already waiting to be read.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { createSilentLogger } from '../../../core/log/logger.js';
import type { PackedDatagram } from '../../../core/sink/datagram-packer.js';
import { DatagramSender } from '../../../core/sink/datagram-sender.js';
import type { DatagramTransport } from '../../../core/sink/datagram-transport.js';
import { Delivery } from '../../../core/sink/delivery.js';

/**
 * A transport whose every send is refused, the refusal arriving as a real socket event (a datagram to
 * a local socket, read in the poll phase, as the kernel's ICMP error is); right after each send the
 * process stalls for longer than the confirmation window.
 */
class RefusedAfterStall implements DatagramTransport {
  readonly description = 'udp://127.0.0.1:9 (test)';
  readonly confirmation = { afterMs: 50, lastSendOnly: false } as const;
  onError: ((error: Error) => void) | undefined;
  sends = 0;
  private constructor(
    private readonly sender: dgram.Socket,
    private readonly receiver: dgram.Socket,
  ) {
    receiver.on('message', () =>
      this.onError?.(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    );
  }

  static async create(): Promise<RefusedAfterStall> {
    const receiver = dgram.createSocket('udp4');
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    const sender = dgram.createSocket('udp4');
    sender.connect(receiver.address().port, '127.0.0.1');
    await once(sender, 'connect');
    return new RefusedAfterStall(sender, receiver);
  }

  isOpen(): boolean {
    return true;
  }
  open(): Promise<Error | undefined> {
    return Promise.resolve(undefined);
  }
  send(payload: Buffer): Promise<Error | undefined> {
    this.sends++;
    return new Promise((resolve) =>
      this.sender.send(payload, (error) => {
        resolve(error ?? undefined);
        // The stall: past the confirmation window, with the refusal already in the socket.
        setImmediate(() => {
          const until = Date.now() + 150;
          while (Date.now() < until);
        });
      }),
    );
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  async dispose(): Promise<void> {
    await Promise.all([
      new Promise<void>((r) => this.sender.close(() => r())),
      new Promise<void>((r) => this.receiver.close(() => r())),
    ]);
  }
}

test('a datagram whose refusal waits in the socket after a stall is not confirmed', async () => {
  const transport = await RefusedAfterStall.create();
  const counters = { samples: 0, datagrams: 0, bytes: 0, maxDatagramBytes: 0, sendErrors: 0, dropped: 0 };
  const sender = new DatagramSender(
    transport,
    {
      maxQueuedDatagrams: 10,
      sliceDatagrams: 8,
      sliceBytes: 32_768,
      slicePauseMs: 1,
      flushTimeoutMs: 200,
      reconnectInitialDelayMs: 20,
      reconnectMaxDelayMs: 40,
    },
    createSilentLogger(),
    counters,
  );
  const delivery = new Delivery();
  delivery.expect(1);
  const payload = Buffer.from('aws.lambda.invocations:1|c|T1764028800');
  const datagram: PackedDatagram = {
    payload,
    bytes: payload.length,
    samples: 1,
    deliveries: [delivery],
    counts: [1],
    seq: 1,
    sealedAt: Date.now(),
  };
  try {
    sender.enqueue(datagram);
    await assert.rejects(delivery.settle(), /not delivered: .*unreachable \(ECONNREFUSED\)/);
    assert.ok(transport.sends >= 1);
  } finally {
    await sender.close();
    await transport.dispose();
  }
});
