/**
 * A DogStatsD listener in its own process, with the OS-default receive buffer (nothing tuned), over
 * UDP (argv[2] = 'udp') or a unix datagram socket (argv[2] = 'uds', argv[3] = path). It only counts:
 * datagrams, bytes, lines, and timestamped lines (`|T`, the CloudWatch points).
 *   child → parent { type: 'ready', port | path }
 *   parent → child 'report'  → { type: 'counts', counts } and the counters reset
 *   parent → child 'capture' → { type: 'capturing' }: datagrams are kept from now on (the floor's lines)
 *   parent → child { save }  → the kept lines written to that path, { type: 'captured', lines }
 *   parent → child 'exit'
 */
import dgram from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import unixDgram from 'unix-dgram';
import type { ListenerCommand, ListenerCounts, ListenerMessage } from './protocol.js';

let counts = { datagrams: 0, bytes: 0, maxDatagramBytes: 0, points: 0, lines: 0 };
/** Datagram texts kept while capturing; undefined otherwise. */
let captured: string[] | undefined;

function record(message: Buffer): void {
  counts.datagrams++;
  counts.bytes += message.length;
  if (message.length > counts.maxDatagramBytes) counts.maxDatagramBytes = message.length;
  const text = message.toString('utf8');
  captured?.push(text);
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    const line = end === -1 ? text.slice(start) : text.slice(start, end);
    if (line.length > 0) {
      counts.lines++;
      if (line.includes('|T')) counts.points++;
    }
    if (end === -1) break;
    start = end + 1;
  }
}

const send = (message: ListenerMessage): void => {
  process.send?.(message);
};

const transport = process.argv[2];
let close: () => void;
if (transport === 'uds') {
  const path = process.argv[3]!;
  rmSync(path, { force: true });
  const socket = unixDgram.createSocket('unix_dgram', record);
  socket.on('error', () => undefined);
  socket.on('listening', () => send({ type: 'ready', path }));
  socket.bind(path);
  close = () => {
    socket.close();
    rmSync(path, { force: true });
  };
} else {
  const socket = dgram.createSocket('udp4');
  socket.on('message', record);
  socket.bind(0, '127.0.0.1', () => send({ type: 'ready', port: socket.address().port }));
  close = () => socket.close();
}

process.on('message', (message: ListenerCommand) => {
  if (message === 'capture') {
    captured = [];
    send({ type: 'capturing' });
  } else if (typeof message === 'object') {
    const lines = (captured ?? [])
      .join('\n')
      .split('\n')
      .filter((line) => line.length > 0);
    captured = undefined;
    writeFileSync(message.save, lines.join('\n'));
    send({ type: 'captured', lines: lines.length });
  } else if (message === 'report') {
    const reply: ListenerCounts = { ...counts };
    counts = { datagrams: 0, bytes: 0, maxDatagramBytes: 0, points: 0, lines: 0 };
    send({ type: 'counts', counts: reply });
  } else if (message === 'exit') {
    close();
    process.disconnect();
  }
});
