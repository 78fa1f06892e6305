/**
 * The Agent's TCP logs source for the logs bench, in a process of its own so that its reading is not
 * dogwatch's CPU: counts lines and bytes. With a byte limit (argv[2]) it stops reading once that many
 * bytes arrived and keeps the connection open, as an Agent that stops reading does: dogwatch's socket
 * buffers fill and its sink must stop taking records.
 */
import { createServer, type Socket } from 'node:net';

const stallAfterBytes = Number(process.argv[2] ?? Infinity);
let lines = 0;
let bytes = 0;
const sockets = new Set<Socket>();

const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    // Counting newlines is all the Agent's framing needs; no string is built.
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (bytes >= stallAfterBytes) socket.pause();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (message: string) => {
  if (message === 'report') process.send!({ type: 'counts', lines, bytes });
  else if (message === 'exit') {
    for (const s of sockets) s.destroy();
    server.close();
    process.disconnect();
  }
});
