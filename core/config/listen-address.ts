/** A TCP address to listen on. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export const LOOPBACK = '127.0.0.1';

/** The result of reading an address a user wrote; `off` disables the listener. */
export type ParsedListenAddress = ListenAddress | 'off' | undefined;

function port(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= 1 && value <= 65535 ? value : undefined;
}

/**
 * Reads `host:port`, `[v6]:port`, `:port` or `port`; undefined when malformed.
 * Contract: an address without a host means loopback, never every interface: only an explicit
 * `0.0.0.0` or `[::]` binds all interfaces.
 */
export function parseListenAddress(text: string): ParsedListenAddress {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'off') return 'off';
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed);
  if (bracketed) {
    const value = port(bracketed[2]);
    return value !== undefined && bracketed[1] !== undefined
      ? { host: bracketed[1], port: value }
      : undefined;
  }
  const colons = trimmed.split(':').length - 1;
  if (colons === 0) {
    const value = port(trimmed);
    return value !== undefined ? { host: LOOPBACK, port: value } : undefined;
  }
  if (colons > 1) return undefined;
  const [host = '', portText] = trimmed.split(':');
  const value = port(portText);
  if (value === undefined || host === '*' || /\s/.test(host)) return undefined;
  return { host: host === '' ? LOOPBACK : host, port: value };
}

export const LISTEN_ADDRESS_EXPECTED =
  'host:port, [ipv6]:port or off (e.g. 127.0.0.1:5005; 0.0.0.0:5005 listens on every interface)';
