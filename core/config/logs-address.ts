import type { LogsTarget } from '../logs-sink/tcp-line-sender.js';

/** Where log lines go: the Agent's TCP logs listener (`logs_config` with a `tcp` source). */
export type { LogsTarget };

export const DEFAULT_LOGS_HOST = '127.0.0.1';
export const DEFAULT_LOGS_PORT = 10518;
export const DEFAULT_LOGS_URL = `tcp://${DEFAULT_LOGS_HOST}:${DEFAULT_LOGS_PORT}`;
export const LOGS_URL_EXPECTED =
  "tcp://host:port, the local Agent's TCP logs listener (not Datadog's intake: the Agent forwards to it)";

/** Datadog's own intake hosts: logs go to the Agent next to dogwatch, which holds the API key. */
const INTAKE_HOST = /(^|\.)(datadoghq\.(com|eu)|ddog-gov\.com|datad0g\.com)$/i;

const TCP_URL = /^tcp:\/\/(\[[^\]]+\]|[^:/[\]\s]*)(?::(\d{1,5}))?\/?$/i;

/** Reads a `logs_url` / DOGWATCH_LOGS_URL address; undefined when malformed. */
export function parseLogsUrl(text: string): LogsTarget | undefined {
  const match = TCP_URL.exec(text.trim());
  if (!match) return undefined;
  const host = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  const port = match[2] !== undefined ? Number(match[2]) : DEFAULT_LOGS_PORT;
  if (port < 1 || port > 65535 || INTAKE_HOST.test(host)) return undefined;
  return { host: host === '' ? DEFAULT_LOGS_HOST : host, port };
}
