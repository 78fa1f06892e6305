/**
 * How settings written as text (environment variables, command-line flags) are read. dogwatch.yaml
 * values that are text get the same check and wording (see textSchema in daemon-setting.ts).
 */
import { DOGSTATSD_URL_EXPECTED, parseDogStatsDUrl, type DogStatsDTarget } from './dogstatsd-address.js';
import { LISTEN_ADDRESS_EXPECTED, parseListenAddress, type ListenAddress } from './listen-address.js';
import { LOGS_URL_EXPECTED, parseLogsUrl, type LogsTarget } from './logs-address.js';
import { MAX_TIMER_SECONDS } from './timer-limit.js';

/** Reads a value from text; `expected` is what a user must write, for problems ("expected …, found …"). */
export interface TextFormat<T> {
  /** Undefined when the text is malformed. */
  readonly parse: (text: string) => T | undefined;
  readonly expected: string;
}

export const MIN_DATAGRAM_BYTES = 512;
export const MAX_DATAGRAM_BYTES = 8192;

export const oneOf = <T extends string>(values: readonly T[]): TextFormat<T> => ({
  parse: (text) => values.find((value) => value === text.trim().toLowerCase()),
  expected: `one of ${values.join(', ')}`,
});

export const positiveSeconds: TextFormat<number> = {
  parse: (text) =>
    /^\d+(\.\d+)?$/.test(text.trim()) && Number(text) > 0 && Number(text) <= MAX_TIMER_SECONDS
      ? Number(text)
      : undefined,
  expected: `a number of seconds > 0 and ≤ ${MAX_TIMER_SECONDS}`,
};

export const datagramBytes: TextFormat<number> = {
  parse: (text) => {
    const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    return value >= MIN_DATAGRAM_BYTES && value <= MAX_DATAGRAM_BYTES ? value : undefined;
  },
  expected: `an integer from ${MIN_DATAGRAM_BYTES} to ${MAX_DATAGRAM_BYTES} (bytes)`,
};

export const nonEmptyPath: TextFormat<string> = {
  parse: (text) => (text.trim() !== '' ? text.trim() : undefined),
  expected: 'a non-empty path',
};

export const hostName: TextFormat<string> = {
  parse: nonEmptyPath.parse,
  expected: 'a host name or IP address',
};

export const udpPort: TextFormat<number> = {
  parse: (text) => {
    const value = /^\d{1,5}$/.test(text.trim()) ? Number(text) : NaN;
    return value >= 1 && value <= 65535 ? value : undefined;
  },
  expected: 'a port number from 1 to 65535',
};

export const listenAddress: TextFormat<ListenAddress | 'off'> = {
  parse: parseListenAddress,
  expected: LISTEN_ADDRESS_EXPECTED,
};

export const dogstatsdUrl: TextFormat<DogStatsDTarget> = {
  parse: parseDogStatsDUrl,
  expected: DOGSTATSD_URL_EXPECTED,
};

export const logsUrl: TextFormat<LogsTarget> = {
  parse: parseLogsUrl,
  expected: LOGS_URL_EXPECTED,
};

/** `true`/`1` or `false`/`0`, as the Agent reads its boolean environment variables. */
export const boolean: TextFormat<boolean> = {
  parse: (text) => {
    const lower = text.trim().toLowerCase();
    return ['true', '1'].includes(lower) ? true : ['false', '0'].includes(lower) ? false : undefined;
  },
  expected: 'true or false',
};

/** Arguments separated by white space (no quoting, as the Agent's DD_SECRET_BACKEND_ARGUMENTS). */
export const spaceSeparated: TextFormat<string[]> = {
  parse: (text) => (text.trim() !== '' ? text.trim().split(/\s+/) : undefined),
  expected: 'arguments separated by spaces',
};
