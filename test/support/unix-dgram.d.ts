/**
 * The slice of unix-dgram (2.x, no bundled types) the test listener uses. Callbacks and events are
 * synchronous: `bind` emits 'listening' or 'error' before it returns.
 */
declare module 'unix-dgram' {
  import { EventEmitter } from 'node:events';

  export interface UnixDgramSocket extends EventEmitter {
    bind(path: string): void;
    connect(path: string): void;
    send(buf: Buffer, callback?: (error?: Error) => void): void;
    close(): void;
  }

  export function createSocket(type: 'unix_dgram', listener?: (message: Buffer) => void): UnixDgramSocket;

  const unixDgram: { createSocket: typeof createSocket };
  export default unixDgram;
}
