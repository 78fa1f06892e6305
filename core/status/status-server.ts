import { createServer, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { redactValue } from '../log/logger.js';
import type { ListenAddress } from '../config/listen-address.js';
import type { DaemonStatus } from './status-registry.js';

/**
 * `/health` (liveness and readiness: 200 once configuration is loaded, 503 while stopping) and
 * `/status` (JSON, secrets redacted). Binds where it is told; the default is loopback.
 */
export class StatusServer {
  private server: Server | undefined;
  private stopping = false;

  constructor(private readonly snapshot: () => DaemonStatus) {}

  async listen(address: ListenAddress): Promise<ListenAddress> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (!hostAllowed(request.headers.host, address.host)) {
        // DNS rebinding: a web page's script reaching this port through a name it controls.
        response.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden Host\n');
      } else if (request.method !== 'GET') {
        response.writeHead(405, { allow: 'GET' }).end();
      } else if (path === '/health') {
        const body = JSON.stringify({ status: this.stopping ? 'stopping' : 'ok' });
        response.writeHead(this.stopping ? 503 : 200, { 'content-type': 'application/json' }).end(body);
      } else if (path === '/status') {
        const body = JSON.stringify(redactValue(this.snapshot()), null, 2);
        response.writeHead(200, { 'content-type': 'application/json' }).end(body);
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('try /health or /status\n');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as AddressInfo;
    return { host: bound.address, port: bound.port };
  }

  markStopping(): void {
    this.stopping = true;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Only requests addressed to an IP literal, `localhost` or the configured host are answered: a browser
 * tricked by DNS rebinding sends the attacker's name as Host. Probes (kubelet, curl, dogwatch health)
 * address the IP or localhost.
 */
export function hostAllowed(hostHeader: string | undefined, boundHost: string): boolean {
  if (!hostHeader) return true;
  const host = hostHeader.startsWith('[')
    ? hostHeader.slice(1, hostHeader.indexOf(']'))
    : hostHeader.replace(/:\d+$/, '');
  const name = host.toLowerCase();
  return isIP(name) !== 0 || name === 'localhost' || name === boundHost.toLowerCase();
}
