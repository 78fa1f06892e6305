/**
 * What `dogwatch --version` and `dogwatch health` (the container HEALTHCHECK, every 5-30 s) cost as whole
 * processes, beside a bare `node -e 0` on the same machine, so the figure is about dogwatch and not about
 * how fast this machine starts Node. The cheapest of several runs filters out a busy machine's noise.
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { cheapestOf, type ProcessCost } from './process-cost.js';

const CLI = fileURLToPath(new URL('../app/main.js', import.meta.url));
const RUNS = 5;

export interface CommandCost {
  readonly command: string;
  readonly cpu_ms: number;
  readonly max_rss_mib: number;
  /** Above bare Node; 0 for bare Node itself. */
  readonly extra_cpu_ms: number;
  readonly extra_rss_mib: number;
  readonly cpu_to_bare: number;
  readonly rss_to_bare: number;
}

export async function measureCliCost(): Promise<CommandCost[]> {
  const server = createServer((_request, response) => response.end('{"status":"ok"}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const bare = await cheapestOf(RUNS, ['-e', '0']);
    const version = await cheapestOf(RUNS, [CLI, '--version']);
    const health = await cheapestOf(RUNS, [CLI, 'health'], {
      ...process.env,
      DOGWATCH_STATUS_ADDR: `127.0.0.1:${port}`,
    });
    if (health.exitCode !== 0) throw new Error(`dogwatch health exited ${health.exitCode}: ${health.stdout}`);
    const row = (command: string, cost: ProcessCost): CommandCost => ({
      command,
      cpu_ms: round(cost.cpuMs),
      max_rss_mib: round(cost.maxRssMiB),
      extra_cpu_ms: round(cost.cpuMs - bare.cpuMs),
      extra_rss_mib: round(cost.maxRssMiB - bare.maxRssMiB),
      cpu_to_bare: round(cost.cpuMs / bare.cpuMs, 2),
      rss_to_bare: round(cost.maxRssMiB / bare.maxRssMiB, 2),
    });
    return [row('node -e 0', bare), row('dogwatch --version', version), row('dogwatch health', health)];
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

export function cliCostSection(rows: readonly CommandCost[]): string {
  return [
    '',
    '## Command-line cost (`--version`, `health`)',
    '',
    `Whole processes, the cheapest of ${RUNS} runs each, beside a bare Node on the same machine in the same run.`,
    '',
    '| command | CPU ms | peak RSS MiB | CPU above bare Node | RSS above bare Node | CPU ÷ bare | RSS ÷ bare |',
    '|---|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| \`${r.command}\` | ${r.cpu_ms} | ${r.max_rss_mib} | ${r.extra_cpu_ms} ms | ${r.extra_rss_mib} MiB | ${r.cpu_to_bare.toFixed(2)}× | ${r.rss_to_bare.toFixed(2)}× |`,
    ),
  ].join('\n');
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
