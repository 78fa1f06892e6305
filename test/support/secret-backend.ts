/**
 * Real, executable secret backends for tests: Node scripts speaking the Agent's secret backend protocol
 * (a JSON request `{version, secrets: [handle…]}` on stdin, `{handle: {value, error}}` on stdout).
 */
import { chmodSync, writeFileSync } from 'node:fs';

export interface SecretBackendScript {
  /** Handles resolved to a fixed value. */
  readonly values?: Readonly<Record<string, string>>;
  /** Handles starting with `handlePrefix` resolve to `<valuePrefix>-<handle>`. */
  readonly prefixRule?: { readonly handlePrefix: string; readonly valuePrefix: string };
  /** The error reported for every other handle. */
  readonly unknownError: string;
  /** When set, each request is appended to this file as one JSON line. */
  readonly callsLog?: string;
}

/**
 * Writes an executable Node script at `path` (mode 0700, as the Agent's permission rules want):
 * `#!<this node>` followed by `body`.
 */
export function writeNodeScript(path: string, body: string): string {
  writeFileSync(path, `#!${process.execPath}\n${body}\n`);
  chmodSync(path, 0o700);
  return path;
}

/** Writes a secret backend answering as `script` says at `path`; returns `path`. */
export function writeSecretBackendScript(path: string, script: SecretBackendScript): string {
  return writeNodeScript(
    path,
    `import { appendFileSync } from 'node:fs';
const values = ${JSON.stringify(script.values ?? {})};
const prefixRule = ${JSON.stringify(script.prefixRule ?? null)};
const callsLog = ${JSON.stringify(script.callsLog ?? null)};
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const request = JSON.parse(input);
  if (callsLog !== null) appendFileSync(callsLog, JSON.stringify(request) + '\\n');
  const out = {};
  for (const handle of request.secrets) {
    const value = Object.hasOwn(values, handle)
      ? values[handle]
      : prefixRule !== null && handle.startsWith(prefixRule.handlePrefix)
        ? prefixRule.valuePrefix + '-' + handle
        : undefined;
    out[handle] = value === undefined ? { value: null, error: ${JSON.stringify(script.unknownError)} } : { value, error: null };
  }
  process.stdout.write(JSON.stringify(out));
});`,
  );
}
