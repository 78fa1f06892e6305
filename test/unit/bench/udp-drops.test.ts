import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readUdpDrops, udpDropsBetween } from '../../../bench/udp-drops.js';

const dir = mkdtempSync(join(tmpdir(), 'udp-drops-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function snmp(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('readUdpDrops (/proc/net/snmp)', () => {
  it('reads RcvbufErrors and SndbufErrors from the Udp rows, by column name', () => {
    const path = snmp(
      'snmp',
      'Tcp: RtoAlgorithm RtoMin\nTcp: 1 200\n' +
        'Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors\n' +
        'Udp: 2769144 493 40 2769679 41 3 0\n' +
        'UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdpLite: 0 0 0 0 9 9\n',
    );
    assert.deepEqual(readUdpDrops(path), { rcvbufErrors: 41, sndbufErrors: 3 });
  });

  it('is undefined when the file is missing or has no such columns', () => {
    assert.equal(readUdpDrops(join(dir, 'absent')), undefined);
    assert.equal(readUdpDrops(snmp('old', 'Udp: InDatagrams NoPorts\nUdp: 1 2\n')), undefined);
  });

  it('gives the rise between two readings, or undefined when one is missing', () => {
    const before = { rcvbufErrors: 40, sndbufErrors: 0 };
    assert.deepEqual(udpDropsBetween(before, { rcvbufErrors: 80, sndbufErrors: 2 }), {
      rcvbufErrors: 40,
      sndbufErrors: 2,
    });
    assert.equal(udpDropsBetween(undefined, before), undefined);
  });
});
