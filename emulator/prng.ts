/**
 * Deterministic hashing and pseudo-random numbers for the emulator.
 *
 * Every value the world shows is a pure function of integers mixed here, so two processes with the same
 * seed see the same world, and a test can recompute any datapoint without asking the server.
 */

/** 32-bit FNV-1a of a string. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes any number of 32-bit integers into one well-distributed 32-bit integer (murmur3 finaliser). */
export function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h ^= part | 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A uniform number in [0, 1) derived from the given integers. */
export function unit(...parts: number[]): number {
  return mix(...parts) / 4294967296;
}

function round32(h: number, part: number): number {
  h ^= part | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** `unit(a, b, c, d)` without the rest-array allocation: the datapoint hot path calls it millions of times. */
export function unit4(a: number, b: number, c: number, d: number): number {
  return (round32(round32(round32(round32(0x9e3779b9, a), b), c), d) >>> 0) / 4294967296;
}

/** Small seeded PRNG (mulberry32) for building the world in a fixed order. */
export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}
