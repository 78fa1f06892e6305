import { readFileSync } from 'node:fs';

/**
 * The kernel's UDP drop counters for this network namespace (Linux `/proc/net/snmp`): datagrams dropped
 * because a receiver's buffer was full (RcvbufErrors) and because a sender's was (SndbufErrors). UDP tells
 * the sender nothing about the first, so a difference taken around a bench phase is how the bench tells a
 * listener that fell behind from a datagram dogwatch never sent. Undefined where the file is absent or
 * unreadable (not Linux); the counters cover every process of the namespace.
 */
export interface UdpDrops {
  readonly rcvbufErrors: number;
  readonly sndbufErrors: number;
}

export function readUdpDrops(path = '/proc/net/snmp'): UdpDrops | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const rows = text.split('\n').filter((line) => line.startsWith('Udp: '));
  const [names, values] = rows.map((row) => row.slice(5).trim().split(/\s+/));
  if (!names || !values) return undefined;
  const field = (name: string): number | undefined => {
    const at = names.indexOf(name);
    const value = at === -1 ? NaN : Number(values[at]);
    return Number.isFinite(value) ? value : undefined;
  };
  const rcvbufErrors = field('RcvbufErrors');
  const sndbufErrors = field('SndbufErrors');
  return rcvbufErrors === undefined || sndbufErrors === undefined
    ? undefined
    : { rcvbufErrors, sndbufErrors };
}

/** What the counters rose by between two readings (undefined if either is missing). */
export function udpDropsBetween(
  before: UdpDrops | undefined,
  after: UdpDrops | undefined,
): UdpDrops | undefined {
  if (!before || !after) return undefined;
  return {
    rcvbufErrors: after.rcvbufErrors - before.rcvbufErrors,
    sndbufErrors: after.sndbufErrors - before.sndbufErrors,
  };
}
