/** Where DogStatsD datagrams go. */
export type DogStatsDTarget =
  | { readonly transport: 'udp'; readonly host: string; readonly port: number }
  | { readonly transport: 'uds'; readonly path: string };

export const DEFAULT_DOGSTATSD_HOST = '127.0.0.1';
export const DEFAULT_DOGSTATSD_PORT = 8125;

export const DOGSTATSD_URL_EXPECTED = 'udp://host:port or unix:///absolute/path/to/dsd.socket';

const UDP_URL = /^udp:\/\/(\[[^\]]+\]|[^:/[\]\s]*)(?::(\d{1,5}))?\/?$/i;
const UNIX_URL = /^unix:\/\/(\/\S+)$/i;

/** Reads a DD_DOGSTATSD_URL-style address; undefined when malformed. */
export function parseDogStatsDUrl(text: string): DogStatsDTarget | undefined {
  const trimmed = text.trim();
  const unix = UNIX_URL.exec(trimmed);
  if (unix?.[1] !== undefined) return { transport: 'uds', path: unix[1] };
  const udp = UDP_URL.exec(trimmed);
  if (!udp) return undefined;
  const host = (udp[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  const port = udp[2] !== undefined ? Number(udp[2]) : DEFAULT_DOGSTATSD_PORT;
  if (port < 1 || port > 65535) return undefined;
  return { transport: 'udp', host: host === '' ? DEFAULT_DOGSTATSD_HOST : host, port };
}
