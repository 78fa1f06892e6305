import type { Delivery } from './delivery.js';
import { settleTogether } from './settlement.js';

/** A sealed datagram and whose lines it carries. */
export interface PackedDatagram {
  /** Off the JS heap: a whole run of datagrams can wait without burdening the garbage collector. */
  readonly payload: Buffer;
  readonly bytes: number;
  /** Lines packed in it: what `dropped` counts if it is given up. */
  readonly samples: number;
  /** The deliveries its lines belong to, and how many lines of each (parallel lists; one or two). */
  readonly deliveries: readonly Delivery[];
  readonly counts: readonly number[];
  /** Seal order; `flush` waits for everything up to the sequence current at its call. */
  readonly seq: number;
  /** Date.now() at seal: how long it has waited, for the flush timeout. */
  readonly sealedAt: number;
}

/** Reports a datagram's fate to the deliveries of its lines, as one settlement (see settlement.ts). */
export function settleDatagram(datagram: PackedDatagram, failure?: string): void {
  settleTogether(() => {
    for (let i = 0; i < datagram.deliveries.length; i++) {
      const delivery = datagram.deliveries[i]!;
      const count = datagram.counts[i]!;
      if (failure === undefined) delivery.delivered(count);
      else delivery.failed(count, failure);
    }
  });
}

/**
 * Packs lines into datagrams of at most `maxBytes`, joined by `\n`, remembering which delivery each
 * line belongs to. Lines are written straight into one buffer and copied out at seal: concatenating
 * strings left a rope of two strings per line on the heap until the datagram was sent.
 */
export class DatagramPacker {
  private buffer: Buffer | undefined;
  private bytes = 0;
  private samples = 0;
  private deliveries: Delivery[] = [];
  private counts: number[] = [];
  private nextSeq = 1;

  constructor(
    private readonly maxBytes: number,
    private readonly onSealed: (datagram: PackedDatagram) => void,
  ) {}

  /** The sequence number the next sealed datagram gets. */
  get sequence(): number {
    return this.nextSeq;
  }

  /** `bytes` is the line's UTF-8 length, at most maxBytes. */
  add(line: string, bytes: number, delivery: Delivery | undefined): void {
    if (this.samples > 0 && this.bytes + 1 + bytes > this.maxBytes) this.seal();
    const buffer = (this.buffer ??= Buffer.allocUnsafe(this.maxBytes));
    if (this.samples > 0) buffer[this.bytes++] = 0x0a; // '\n'
    this.bytes += buffer.write(line, this.bytes, 'utf8');
    this.samples++;
    if (delivery === undefined) return;
    const last = this.deliveries.length - 1;
    if (last >= 0 && this.deliveries[last] === delivery) this.counts[last]!++;
    else {
      this.deliveries.push(delivery);
      this.counts.push(1);
    }
  }

  get empty(): boolean {
    return this.samples === 0;
  }

  seal(): void {
    if (this.samples === 0 || this.buffer === undefined) return;
    const payload = Buffer.allocUnsafe(this.bytes);
    this.buffer.copy(payload, 0, 0, this.bytes);
    const datagram: PackedDatagram = {
      payload,
      bytes: this.bytes,
      samples: this.samples,
      deliveries: this.deliveries,
      counts: this.counts,
      seq: this.nextSeq++,
      sealedAt: Date.now(),
    };
    this.bytes = 0;
    this.samples = 0;
    this.deliveries = [];
    this.counts = [];
    this.onSealed(datagram);
  }
}

/** FIFO of sealed datagrams in seq order; `head` avoids O(n) shifts. */
export class DatagramQueue {
  private items: (PackedDatagram | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  peek(): PackedDatagram | undefined {
    return this.items[this.head];
  }

  push(datagram: PackedDatagram): void {
    this.items.push(datagram);
  }

  /** Removes the oldest. Its slot is cleared: a sent datagram's payload must not stay reachable. */
  shift(): PackedDatagram | undefined {
    if (this.size === 0) return undefined;
    const datagram = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return datagram;
  }

  /** Puts a datagram that was not sent back in front, keeping seq order. */
  unshift(datagram: PackedDatagram): void {
    if (this.head > 0) this.items[--this.head] = datagram;
    else this.items.unshift(datagram);
  }
}
