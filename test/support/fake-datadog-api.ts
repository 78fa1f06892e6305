/**
 * A local stand-in for the part of Datadog's v1 API that `dogwatch assets install` uses (list, create
 * and update dashboards and monitors), recording every request. It checks the two key headers the
 * way Datadog does (403 otherwise) and paginates as the real API does, so the official client runs
 * unmodified against it over HTTP.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

export interface StoredDashboard {
  id: string;
  title: string;
  description?: string;
  [field: string]: unknown;
}

export interface StoredMonitor {
  id: number;
  name: string;
  tags: string[];
  [field: string]: unknown;
}

export class FakeDatadogApi {
  readonly requests: RecordedRequest[] = [];
  readonly dashboards = new Map<string, StoredDashboard>();
  readonly monitors = new Map<number, StoredMonitor>();
  private server: Server | undefined;
  private nextId = 1;

  constructor(private readonly keys: { apiKey: string; appKey: string }) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => this.handle(request, Buffer.concat(chunks).toString('utf8'), response));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Requests other than reads. */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  private handle(request: IncomingMessage, text: string, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const body: unknown = text ? JSON.parse(text) : undefined;
    this.requests.push({
      method: request.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
    });
    const send = (status: number, payload: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    };
    if (
      request.headers['dd-api-key'] !== this.keys.apiKey ||
      request.headers['dd-application-key'] !== this.keys.appKey
    ) {
      send(403, { errors: ['Forbidden'] });
      return;
    }
    const match = /^\/api\/v1\/(dashboard|monitor)(?:\/([^/]+))?$/.exec(url.pathname);
    const route = match
      ? `${request.method} ${match[1]}${match[2] ? '/:id' : ''}`
      : `${request.method} ${url.pathname}`;
    const id = match?.[2] ?? '';
    switch (route) {
      case 'GET dashboard': {
        const start = Number(url.searchParams.get('start') ?? 0);
        const count = Number(url.searchParams.get('count') ?? 100);
        const page = [...this.dashboards.values()].slice(start, start + count);
        send(200, {
          dashboards: page.map((d) => ({
            id: d.id,
            title: d.title,
            description: d.description,
            layout_type: 'ordered',
          })),
        });
        return;
      }
      case 'POST dashboard':
        send(200, this.storeDashboard(`dog-${this.nextId++}`, body as StoredDashboard));
        return;
      case 'PUT dashboard/:id':
        if (!this.dashboards.has(id)) return send(404, { errors: ['Dashboard not found'] });
        send(200, this.storeDashboard(id, body as StoredDashboard));
        return;
      case 'GET monitor': {
        const wanted = (url.searchParams.get('monitor_tags') ?? '').split(',').filter(Boolean);
        const page = Number(url.searchParams.get('page') ?? 0);
        const size = Number(url.searchParams.get('page_size') ?? 100);
        const matching = [...this.monitors.values()].filter((m) => wanted.every((t) => m.tags.includes(t)));
        send(200, matching.slice(page * size, (page + 1) * size));
        return;
      }
      case 'POST monitor':
        send(200, this.storeMonitor(this.nextId++, body as StoredMonitor));
        return;
      case 'PUT monitor/:id':
        if (!this.monitors.has(Number(id))) return send(404, { errors: ['Monitor not found'] });
        send(
          200,
          this.storeMonitor(Number(id), { ...this.monitors.get(Number(id))!, ...(body as StoredMonitor) }),
        );
        return;
      default:
        send(404, { errors: [`no route ${route}`] });
    }
  }

  private storeDashboard(id: string, body: StoredDashboard): StoredDashboard {
    const stored = { ...body, id };
    this.dashboards.set(id, stored);
    return stored;
  }

  private storeMonitor(id: number, body: StoredMonitor): StoredMonitor {
    const stored = { ...body, id };
    this.monitors.set(id, stored);
    return stored;
  }
}
