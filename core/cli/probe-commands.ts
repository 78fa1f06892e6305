/**
 * `dogwatch status` and `dogwatch health`: clients of a running daemon's status listener. They load only
 * node:http and the one setting they need (the container HEALTHCHECK runs `health` every few seconds).
 */
import { get } from 'node:http';
import type { ListenAddress } from '../config/listen-address.js';
import { resolveStatusAddress, StatusAddressError } from '../config/status-address.js';
import type { DaemonStatus } from '../status/status-registry.js';

export interface ProbeFlags {
  readonly config?: string;
  readonly statusAddr?: string;
}

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

function httpGet(url: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = get(url, { timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.on('error', reject);
  });
}

const describe = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
};

/** The listener's address, or undefined after printing why there is none (exit code set). */
async function addressOrReport(
  flags: ProbeFlags,
  command: string,
  whenOff: () => void,
): Promise<ListenAddress | undefined> {
  try {
    const address = await resolveStatusAddress({ flags, env: process.env });
    if (address === undefined) whenOff();
    return address;
  } catch (error) {
    if (!(error instanceof StatusAddressError)) throw error;
    process.stderr.write(`dogwatch ${command}: ${error.message}\n`);
    process.exitCode = 1;
    return undefined;
  }
}

function urlOf(host: string, port: number, path: string): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

export async function statusCommand(flags: ProbeFlags & { json?: boolean }): Promise<void> {
  const address = await addressOrReport(flags, 'status', () => {
    process.stderr.write('dogwatch status: the status listener is off (DOGWATCH_STATUS_ADDR=off)\n');
    process.exitCode = 1;
  });
  if (!address) return;
  const url = urlOf(address.host, address.port, '/status');
  let answer: HttpAnswer;
  try {
    answer = await httpGet(url, 5000);
  } catch (error) {
    process.stderr.write(`dogwatch status: no daemon answers at ${url} (${describe(error)})\n`);
    process.exitCode = 1;
    return;
  }
  if (flags.json) {
    process.stdout.write(`${answer.body}\n`);
    return;
  }
  const { printStatus } = await import('./print-status.js');
  printStatus(JSON.parse(answer.body) as DaemonStatus, process.stdout);
}

/**
 * `dogwatch health`: the container and Kubernetes probe. Follows the daemon's status_addr setting
 * wherever it points; exit 0 healthy, 1 not.
 */
export async function healthCommand(flags: ProbeFlags): Promise<void> {
  const address = await addressOrReport(flags, 'health', () => {
    process.stdout.write('the status listener is off (DOGWATCH_STATUS_ADDR=off): nothing to probe\n');
  });
  if (!address) return;
  const { host, port } = address;
  const probeHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const url = urlOf(probeHost, port, '/health');
  try {
    const answer = await httpGet(url, 4000);
    process.stdout.write(`${answer.status} ${answer.body.trim()}\n`);
    if (answer.status < 200 || answer.status > 299) process.exitCode = 1;
  } catch (error) {
    process.stdout.write(`unhealthy: no answer from ${url} (${describe(error)})\n`);
    process.exitCode = 1;
  }
}
