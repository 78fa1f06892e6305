/**
 * A real `dogwatch run` process (dist/app/main.js) for the restart tests: spawned with the environment
 * a test gives it (DOGWATCH_CLOCK, DOGWATCH_CONFD, DOGWATCH_STATE_DIR, DD_DOGSTATSD_URL, DOGWATCH_CRASH_AT),
 * its stderr kept for assertion messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ScaledClock } from '../../core/clock.js';
import type { TempWorkspace } from './daemon-harness.js';

const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));

/** A `dogwatch run` child process, its exit, and what it wrote to stderr. */
export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string;
}

/** Starts `dogwatch run` with `env` over the test's own environment. */
export function spawnDaemon(env: Record<string, string>): DaemonProcess {
  const child = spawn(process.execPath, [CLI, 'run'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const proc: DaemonProcess = {
    child,
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.stderr.on('data', (chunk: Buffer) => (proc.stderr += chunk.toString()));
  return proc;
}

/** The promise's value, or undefined if it did not settle within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    promise,
    new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms))),
  ]);
  clearTimeout(timer);
  return result;
}

/** A `dogwatch <args>` command to its end (killed after `timeoutMs`): exit code and output. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on (for a daemon's status listener). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The environment of a daemon process of the restart tests: the emulator's clock, the workspace's conf.d and
 * state, the Agent's socket, emulator credentials; status listener off, warn-level JSON logs.
 */
export function daemonEnv(
  clock: ScaledClock,
  workspace: TempWorkspace,
  dogstatsdUrl: string,
): Record<string, string> {
  return {
    DOGWATCH_CLOCK: clock.toSpec(),
    DOGWATCH_CONFD: workspace.confd,
    DOGWATCH_STATE_DIR: workspace.stateDir,
    DOGWATCH_STATUS_ADDR: 'off',
    DOGWATCH_LOG_LEVEL: 'warn',
    DOGWATCH_LOG_FORMAT: 'json',
    DD_DOGSTATSD_URL: dogstatsdUrl,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_REGION: 'us-east-1',
  };
}
