import { spawn } from 'node:child_process';
import { z } from 'zod';
import { secretBackendPermissionProblem } from './secret-backend-permissions.js';
import type { SecretBackendSettings } from './secret-backend-settings.js';

/** What became of one `ENC[handle]`: its secret value, or why the backend could not give it. */
export type SecretResolution = { readonly value: string } | { readonly error: string };

/**
 * Resolves `ENC[handle]` values. Contract: one call per config load with every handle of that load
 * (backends are often slow or rate-limited); a map entry per handle asked for; rejects with
 * SecretBackendError only when the backend as a whole failed. Neither the map's errors nor a
 * rejection's message may contain a secret value.
 */
export interface SecretResolver {
  resolve(handles: readonly string[]): Promise<ReadonlyMap<string, SecretResolution>>;
}

export class SecretBackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBackendError';
  }
}

const HANDLE = /^ENC\[(.+)\]$/s;

/** The handle of a value written as `ENC[handle]` (the whole value), else undefined. */
export function secretHandleOf(value: string): string | undefined {
  return HANDLE.exec(value.trim())?.[1];
}

export interface CommandSecretResolverOptions {
  /** Executable path; run directly, never through a shell. */
  readonly command: string;
  readonly arguments?: readonly string[];
  /** Default 30, as the Agent's secret_backend_timeout. */
  readonly timeoutSeconds?: number;
  /** Stdout beyond this is refused; default 1 MiB, as the Agent's secret_backend_output_max_size. */
  readonly maxOutputBytes?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** The Agent's secret_backend_command_allow_group_exec_perm (see secret-backend-permissions.ts). */
  readonly allowGroupExec?: boolean;
}

const backendResponse = z.record(
  z.string(),
  z.object({ value: z.string().nullish(), error: z.string().nullish() }),
);

const MAX_ERROR_CHARS = 200;

/**
 * The Datadog Agent's `secret_backend_command` protocol: the command reads
 * `{"version":"1.0","secrets":[handles]}` on stdin and writes `{"<handle>":{"value":…,"error":…}}`
 * on stdout. Stdout and stderr are never quoted in errors: they may hold secrets.
 */
export class CommandSecretResolver implements SecretResolver {
  private readonly options: CommandSecretResolverOptions;

  constructor(options: CommandSecretResolverOptions) {
    if (options.command.trim() === '') throw new Error('CommandSecretResolver: command must not be empty');
    this.options = options;
  }

  async resolve(handles: readonly string[]): Promise<ReadonlyMap<string, SecretResolution>> {
    const unique = [...new Set(handles)];
    if (unique.length === 0) return new Map();
    // Checked before every run, as the Agent does: the file may have changed since the last load.
    const unsafe = secretBackendPermissionProblem(
      this.options.command,
      this.options.allowGroupExec ?? false,
      this.options.env,
    );
    if (unsafe !== undefined) throw new SecretBackendError(unsafe);
    const stdout = await this.run(JSON.stringify({ version: '1.0', secrets: unique }));
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch {
      throw new SecretBackendError('the secret backend command did not print valid JSON on stdout');
    }
    const response = backendResponse.safeParse(parsed);
    if (!response.success) {
      throw new SecretBackendError(
        'the secret backend command printed JSON of the wrong shape (expected {"<handle>": {"value": "...", "error": null}})',
      );
    }
    const results = new Map<string, SecretResolution>();
    for (const handle of unique) {
      const entry = response.data[handle];
      if (entry === undefined) results.set(handle, { error: 'the backend returned nothing for this handle' });
      else if (entry.error !== undefined && entry.error !== null && entry.error !== '')
        results.set(handle, { error: `the backend reported: ${entry.error.slice(0, MAX_ERROR_CHARS)}` });
      else if (entry.value === undefined || entry.value === null)
        results.set(handle, { error: 'the backend returned no value for this handle' });
      else results.set(handle, { value: entry.value });
    }
    return results;
  }

  private run(input: string): Promise<string> {
    const timeoutMs = (this.options.timeoutSeconds ?? 30) * 1000;
    const maxBytes = this.options.maxOutputBytes ?? 1024 * 1024;
    return new Promise<string>((resolve, reject) => {
      const child = spawn(this.options.command, [...(this.options.arguments ?? [])], {
        stdio: ['pipe', 'pipe', 'ignore'],
        shell: false,
        env: this.options.env ?? process.env,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      let failure: SecretBackendError | undefined;
      const fail = (message: string) => {
        failure ??= new SecretBackendError(message);
        child.kill('SIGKILL');
      };
      const timer = setTimeout(
        () => fail(`the secret backend command timed out after ${timeoutMs / 1000}s`),
        timeoutMs,
      );
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) fail(`the secret backend command printed more than ${maxBytes} bytes`);
        else chunks.push(chunk);
      });
      // A backend that exits without reading stdin makes the write fail with EPIPE; its exit code says more.
      child.stdin.on('error', () => undefined);
      child.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new SecretBackendError(
            `could not run the secret backend command ${JSON.stringify(this.options.command)}: ${error.code ?? error.message}`,
          ),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (failure) reject(failure);
        else if (code !== 0)
          reject(
            new SecretBackendError(
              `the secret backend command exited with ${code !== null ? `code ${code}` : `signal ${signal ?? '?'}`}`,
            ),
          );
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      child.stdin.end(input);
    });
  }
}

/** The resolver for the daemon's secret backend settings; undefined when none is configured. */
export function secretResolverFor(backend: SecretBackendSettings | undefined): SecretResolver | undefined {
  return backend
    ? new CommandSecretResolver({
        command: backend.command,
        arguments: backend.arguments,
        timeoutSeconds: backend.timeoutSeconds,
        allowGroupExec: backend.allowGroupExec,
      })
    : undefined;
}
