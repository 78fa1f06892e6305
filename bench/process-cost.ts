/**
 * Measures what a Node command costs as a whole process: CPU (user + system) and peak RSS, read by the
 * child itself at exit through a preloaded module (`process.resourceUsage()`), so the figure covers
 * Node's own start-up, every module the command loads and the work it does.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProcessCost {
  /** User + system CPU time, milliseconds. */
  readonly cpuMs: number;
  /** Peak resident set size, MiB. */
  readonly maxRssMiB: number;
  readonly exitCode: number;
  readonly stdout: string;
}

const PROBE = `
import { writeFileSync } from 'node:fs';
process.on('exit', (code) => {
  const usage = process.resourceUsage();
  writeFileSync(process.env.RESOURCE_PROBE_OUT, JSON.stringify({
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    maxRssMiB: usage.maxRSS / 1024,
    exitCode: code,
  }));
});
`;

/** Runs `node <args>` once and returns its cost. */
export async function measureNode(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProcessCost> {
  const dir = await mkdtemp(join(tmpdir(), 'dogwatch-cost-'));
  try {
    const probe = join(dir, 'probe.mjs');
    const out = join(dir, 'usage.json');
    await writeFile(probe, PROBE);
    let stdout = '';
    try {
      stdout = (
        await run(process.execPath, ['--import', pathToFileURL(probe).href, ...args], {
          env: { ...env, RESOURCE_PROBE_OUT: out },
        })
      ).stdout;
    } catch (error) {
      stdout = (error as { stdout?: string }).stdout ?? '';
    }
    const usage = JSON.parse(await readFile(out, 'utf8')) as Omit<ProcessCost, 'stdout'>;
    return { ...usage, stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The cheapest of `runs` measurements (CPU and RSS each), which filters out a busy machine's noise. */
export async function cheapestOf(
  runs: number,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<ProcessCost> {
  const costs: ProcessCost[] = [];
  for (let i = 0; i < runs; i++) costs.push(await measureNode(args, env));
  return {
    ...costs[0]!,
    cpuMs: Math.min(...costs.map((c) => c.cpuMs)),
    maxRssMiB: Math.min(...costs.map((c) => c.maxRssMiB)),
  };
}
