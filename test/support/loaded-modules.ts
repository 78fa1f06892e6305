/**
 * Lists the modules a Node command loads: a preloaded module registers an ESM resolve hook that appends
 * every URL it resolves to a file, so a test can say what a command pulls in without timing it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Hooks run on their own thread in Node 20; appendFileSync keeps the order and survives process.exit().
const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.LOADED_MODULES_OUT, result.url + '\\n');
  return result;
}
`;
const PRELOAD = (hooksUrl: string): string => `
import { register } from 'node:module';
register(${JSON.stringify(hooksUrl)});
`;

export interface LoadedModules {
  /** Every URL resolved by an ESM import, static or dynamic, in order (node: built-ins included). */
  readonly urls: readonly string[];
  readonly exitCode: number;
  readonly stdout: string;
}

/** Runs `node <args>` once and returns the modules it loaded. */
export async function modulesLoadedBy(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedModules> {
  const dir = await mkdtemp(join(tmpdir(), 'dogwatch-modules-'));
  try {
    const hooks = join(dir, 'hooks.mjs');
    const preload = join(dir, 'preload.mjs');
    const out = join(dir, 'loaded.txt');
    await writeFile(hooks, HOOKS);
    await writeFile(preload, PRELOAD(pathToFileURL(hooks).href));
    await writeFile(out, '');
    let stdout = '';
    let exitCode = 0;
    try {
      stdout = (
        await run(process.execPath, ['--import', pathToFileURL(preload).href, ...args], {
          env: { ...env, LOADED_MODULES_OUT: out },
        })
      ).stdout;
    } catch (error) {
      const failed = error as { stdout?: string; code?: number };
      stdout = failed.stdout ?? '';
      exitCode = typeof failed.code === 'number' ? failed.code : 1;
    }
    const urls = (await readFile(out, 'utf8')).split('\n').filter(Boolean);
    return { urls, exitCode, stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
