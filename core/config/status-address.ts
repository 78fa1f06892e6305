import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LISTEN_ADDRESS_EXPECTED, parseListenAddress, type ListenAddress } from './listen-address.js';

/** Default of `status_addr` (dogwatch.yaml), DOGWATCH_STATUS_ADDR and --status-addr. */
export const DEFAULT_STATUS_ADDR = '127.0.0.1:5005';

export interface StatusAddressSources {
  /** --config and --status-addr as given on the command line. */
  readonly flags: { readonly config?: string; readonly statusAddr?: string };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Default: process.cwd(). */
  readonly cwd?: string;
}

/** A setting that could not be read; the message names where it came from and how to fix it. */
export class StatusAddressError extends Error {}

const nonEmpty = (value: string | undefined): string | undefined =>
  value !== undefined && value.trim() !== '' ? value : undefined;

function parsed(text: string, where: string, fix: string): ListenAddress | 'off' {
  const address = parseListenAddress(text);
  if (address === undefined) {
    throw new StatusAddressError(
      `${where}: expected ${LISTEN_ADDRESS_EXPECTED}, found ${JSON.stringify(text)} — fix: ${fix}`,
    );
  }
  return address;
}

/** `status_addr` from dogwatch.yaml, reading YAML only when there is a file to read. */
async function fromFile(
  sources: StatusAddressSources,
  cwd: string,
): Promise<ListenAddress | 'off' | undefined> {
  const explicit = nonEmpty(sources.flags.config) ?? nonEmpty(sources.env.DOGWATCH_CONFIG);
  const path = resolve(cwd, explicit ?? 'dogwatch.yaml');
  if (!existsSync(path)) {
    if (explicit === undefined) return undefined;
    throw new StatusAddressError(
      `${path}: expected a settings file here, found none — fix: correct --config / DOGWATCH_CONFIG`,
    );
  }
  const { parse } = await import('yaml');
  let document: unknown;
  try {
    document = parse(readFileSync(path, 'utf8'));
  } catch {
    throw new StatusAddressError(
      `${path}: invalid YAML — fix: run \`dogwatch configcheck\` to see where, and correct it`,
    );
  }
  const value =
    document !== null && typeof document === 'object'
      ? (document as Record<string, unknown>).status_addr
      : undefined;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new StatusAddressError(`${path}: status_addr: expected ${LISTEN_ADDRESS_EXPECTED}`);
  return parsed(value, `${path}: status_addr`, 'correct status_addr');
}

/**
 * Where the daemon's status listener is, by the daemon's own precedence (--status-addr, then
 * DOGWATCH_STATUS_ADDR, then dogwatch.yaml's status_addr, then 127.0.0.1:5005); undefined when it is
 * off. For `health` and `status`, which must stay cheap: it reads only this one setting (and loads the
 * YAML parser only when a dogwatch.yaml exists). Throws StatusAddressError for a malformed value.
 */
export async function resolveStatusAddress(
  sources: StatusAddressSources,
): Promise<ListenAddress | undefined> {
  const cwd = sources.cwd ?? process.cwd();
  const flag = nonEmpty(sources.flags.statusAddr);
  const env = nonEmpty(sources.env.DOGWATCH_STATUS_ADDR);
  const address =
    flag !== undefined
      ? parsed(flag, 'command line: --status-addr', 'correct --status-addr')
      : env !== undefined
        ? parsed(env, 'environment: DOGWATCH_STATUS_ADDR', 'correct or unset DOGWATCH_STATUS_ADDR')
        : ((await fromFile(sources, cwd)) ?? parsed(DEFAULT_STATUS_ADDR, 'default', 'report a bug'));
  return address === 'off' ? undefined : address;
}
