/**
 * A UDP DogStatsD listener in its own process, with the OS-default receive buffer: the sink must pace
 * its sends for a receiver it cannot slow down or help. Started with child_process.fork; protocol on
 * the IPC channel:
 *   child → parent  { type: 'listening', port }
 *   parent → child  { type: 'report' }   child → parent { type: 'report', datagrams: string[] }
 *   parent → child  { type: 'exit' }
 */
import dgram from 'node:dgram';

export type ListenerProcessMessage =
  { type: 'listening'; port: number } | { type: 'report'; datagrams: string[] };

const received: string[] = [];
const socket = dgram.createSocket('udp4');
socket.on('message', (message) => received.push(message.toString('utf8')));
socket.bind(0, '127.0.0.1', () => {
  const reply: ListenerProcessMessage = { type: 'listening', port: socket.address().port };
  process.send?.(reply);
});
process.on('message', (message: { type: string }) => {
  if (message.type === 'report') {
    const reply: ListenerProcessMessage = { type: 'report', datagrams: received };
    process.send?.(reply);
  } else if (message.type === 'exit') {
    socket.close();
    process.disconnect();
  }
});
