import os from 'node:os';

/**
 * One datagram socket to the Agent. `send` resolves with the socket's verdict on one datagram; errors
 * that arrive outside a send (a refusal read from a UDP socket) go to `onError`.
 *
 * `confirmation` says when a datagram the socket accepted can be counted as delivered:
 * - `afterMs`: once no refusal arrived for this long after it was sent;
 * - `lastSendOnly`: a refusal concerns only the datagram sent last, so each accepted send also
 *   confirms every earlier one (UDS; UDP to a loopback Agent, whose ICMP refusal is raised inside the
 *   send of the refused datagram and reported by the next socket operation).
 */
export interface DatagramTransport {
  /** `udp://127.0.0.1:8125` or `unix:///var/run/datadog/dsd.socket`, for messages. */
  readonly description: string;
  readonly confirmation: { readonly afterMs: number; readonly lastSendOnly: boolean };
  /** Opens the socket; resolves with the reason when the Agent cannot be reached. */
  open(): Promise<Error | undefined>;
  isOpen(): boolean;
  send(payload: Buffer): Promise<Error | undefined>;
  onError: ((error: Error) => void) | undefined;
  close(): Promise<void>;
}

/** What a failed send means: the Agent is gone, it is full for now, or this datagram is bad. */
export type SendFailure = 'unreachable' | 'congested' | 'failed';

/**
 * Errors after which nothing reaches the Agent until it is back: the Agent stopped (UDP refusal, UDS
 * socket file gone), its host cannot be reached, or the socket refuses us (EACCES/EPERM: file
 * permissions, a security module, a peer that accepts only another sender), which no datagram of ours
 * can change until someone fixes it. unix-dgram reports negative errno numbers.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EACCES',
  'EPERM',
  'ENOENT',
  'ENOTCONN',
  'EDESTADDRREQ',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** "Receiver full, try again later" (unix-dgram reports congestion as code 1). */
const CONGESTION_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'ENOBUFS', 'congestion']);

export function errorCodeName(error: Error): string | undefined {
  const code: unknown = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return code;
  if (typeof code === 'number') {
    if (code === 1) return 'congestion';
    for (const [name, value] of Object.entries(os.constants.errno)) if (value === -code) return name;
  }
  return undefined;
}

export function classifySendError(error: Error): SendFailure {
  const code = errorCodeName(error);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return 'unreachable';
  if (code !== undefined && CONGESTION_CODES.has(code)) return 'congested';
  // hot-shots' message when its transport could not be created.
  if (error.message.includes('Socket not created')) return 'unreachable';
  return 'failed';
}
