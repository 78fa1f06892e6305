import type { client as DatadogClient, v1 as DatadogV1 } from '@datadog/datadog-api-client';
import type { Asset } from '../check/asset.js';
import { dashboardKeyOf, MANAGED_MONITOR_TAG, monitorKeyOf } from './asset-set.js';

export interface DatadogCredentials {
  readonly apiKey: string;
  readonly appKey: string;
}

export interface DatadogTarget {
  /** A validated site (datadog-site.ts). */
  readonly site: string;
  /** Another API address (a proxy, a test server): `http(s)://host[:port]`. Wins over `site`. */
  readonly apiUrl?: string;
}

/** What the organisation already holds that could be one of ours. */
export interface RemoteDashboard {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
}
export interface RemoteMonitor {
  readonly id: number;
  readonly name: string;
  readonly tags: readonly string[];
}

export type InstallStep =
  | { readonly action: 'create'; readonly asset: Asset }
  | { readonly action: 'update'; readonly asset: Asset; readonly id: string | number }
  | { readonly action: 'skip'; readonly asset: Asset; readonly reason: string };

/** An install failure worded for the user; never carries a key. */
export class AssetInstallError extends Error {}

/** The whole install gets this long (several calls, retries on 429 included) before it gives up. */
const INSTALL_BUDGET_MS = 5 * 60_000;

/**
 * Decides per asset: an asset is ours in the organisation when it carries our mark (a dashboard's last
 * description line, a monitor's `dogwatch_asset:` tag) *and* our title. A clone keeps the mark but
 * gets a new title, and a renamed asset is the user's: neither is touched. Two matches are never
 * guessed between.
 */
export function planInstall(
  assets: readonly Asset[],
  dashboards: readonly RemoteDashboard[],
  monitors: readonly RemoteMonitor[],
): InstallStep[] {
  return assets.map((asset): InstallStep => {
    const ids =
      asset.kind === 'dashboard'
        ? dashboards
            .filter((d) => dashboardKeyOf(d.description) === asset.key && d.title === asset.title)
            .map((d) => d.id)
        : monitors
            .filter((m) => monitorKeyOf(m.tags)?.toLowerCase() === asset.key && m.name === asset.title)
            .map((m) => m.id);
    if (ids.length === 0) return { action: 'create', asset };
    if (ids.length === 1) return { action: 'update', asset, id: ids[0]! };
    return {
      action: 'skip',
      asset,
      reason: `${ids.length} ${asset.kind}s carry its mark and title (ids ${ids.join(', ')}): delete or rename the extra ones`,
    };
  });
}

interface DatadogApis {
  readonly dashboards: DatadogV1.DashboardsApi;
  readonly monitors: DatadogV1.MonitorsApi;
  readonly serializer: typeof DatadogV1.ObjectSerializer;
  readonly baseUrl: string;
}

/** The official client, loaded only here: it is large, and only `assets install` needs it. */
async function connect(target: DatadogTarget, credentials: DatadogCredentials): Promise<DatadogApis> {
  const datadog = await import('@datadog/datadog-api-client');
  const { client, v1 } = datadog;
  // The client's logger (loglevel, typed `any`) prints failed requests with their stack on stderr;
  // explain() reports them instead, once.
  (datadog.logger as { setLevel(level: 'silent'): void }).setLevel('silent');
  const api = target.apiUrl ? new URL(target.apiUrl) : undefined;
  const configuration = client.createConfiguration({
    authMethods: { apiKeyAuth: credentials.apiKey, appKeyAuth: credentials.appKey },
    // Server 1 is the OpenAPI spec's `{protocol}://{name}` server: the supported way to another address.
    serverIndex: api ? 1 : 0,
    enableRetry: true,
    httpConfig: { signal: AbortSignal.timeout(INSTALL_BUDGET_MS) },
  });
  configuration.setServerVariables(
    api
      ? { protocol: api.protocol.replace(/:$/, ''), name: `${api.host}${api.pathname.replace(/\/$/, '')}` }
      : { site: target.site },
  );
  return {
    dashboards: new v1.DashboardsApi(configuration),
    monitors: new v1.MonitorsApi(configuration),
    serializer: v1.ObjectSerializer,
    baseUrl: api ? api.origin : `https://api.${target.site}`,
  };
}

async function listRemote(
  apis: DatadogApis,
): Promise<{ dashboards: RemoteDashboard[]; monitors: RemoteMonitor[] }> {
  const dashboards: RemoteDashboard[] = [];
  for await (const d of apis.dashboards.listDashboardsWithPagination()) {
    if (d.id !== undefined) dashboards.push({ id: d.id, title: d.title ?? '', description: d.description });
  }
  const monitors: RemoteMonitor[] = [];
  for await (const m of apis.monitors.listMonitorsWithPagination({ monitorTags: MANAGED_MONITOR_TAG })) {
    if (m.id !== undefined) monitors.push({ id: m.id, name: m.name ?? '', tags: m.tags ?? [] });
  }
  return { dashboards, monitors };
}

/** Sends one step; returns the id of what was written. */
async function apply(
  apis: DatadogApis,
  step: InstallStep & { action: 'create' | 'update' },
): Promise<string> {
  const { asset } = step;
  // The client sends model objects: read the JSON the way it reads a response, then it serialises it back.
  if (asset.kind === 'dashboard') {
    const body = apis.serializer.deserialize(asset.body, 'Dashboard', '') as DatadogV1.Dashboard;
    const written =
      step.action === 'create'
        ? await apis.dashboards.createDashboard({ body })
        : await apis.dashboards.updateDashboard({ dashboardId: String(step.id), body });
    return written.id ?? '?';
  }
  if (step.action === 'create') {
    const body = apis.serializer.deserialize(asset.body, 'Monitor', '') as DatadogV1.Monitor;
    return String((await apis.monitors.createMonitor({ body })).id ?? '?');
  }
  const body = apis.serializer.deserialize(
    asset.body,
    'MonitorUpdateRequest',
    '',
  ) as DatadogV1.MonitorUpdateRequest;
  await apis.monitors.updateMonitor({ monitorId: Number(step.id), body });
  return String(step.id);
}

function errorText(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(errors)) return errors.map(String).join('; ');
  return typeof body === 'string' ? body.slice(0, 300) : '';
}

/** Words a client failure for the user, with what to do about it. */
function explain(error: unknown, doing: string, baseUrl: string): AssetInstallError {
  const status = (error as Partial<DatadogClient.ApiException<unknown>> | undefined)?.code;
  if (typeof status === 'number') {
    const detail = errorText((error as DatadogClient.ApiException<unknown>).body);
    if (status === 401 || status === 403) {
      return new AssetInstallError(
        `Datadog refused the keys (HTTP ${status}) at ${baseUrl} while trying to ${doing}${detail ? `: ${detail}` : ''}. ` +
          'Check that DD_API_KEY and DD_APP_KEY belong to the organisation on DD_SITE, and that the application ' +
          'key may read and write dashboards and monitors (scopes dashboards_read, dashboards_write, monitors_read, monitors_write).',
      );
    }
    return new AssetInstallError(`Datadog answered HTTP ${status} to ${doing}${detail ? `: ${detail}` : ''}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  // node-fetch's FetchError: DNS, refused connection, reset, the install's time budget.
  if (error instanceof Error && (error.name === 'FetchError' || error.name === 'AbortError')) {
    return new AssetInstallError(`cannot ${doing}: no answer from ${baseUrl} (${message})`);
  }
  return new AssetInstallError(`cannot ${doing}: unexpected answer from ${baseUrl} (${message})`);
}

/** Replaces the keys wherever a message might echo them (a proxy's error page, say). */
function redactor(credentials: DatadogCredentials): (text: string) => string {
  const secrets = [credentials.apiKey, credentials.appKey].filter((s) => s.length > 0);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('***'), text);
}

export interface InstallOptions {
  readonly assets: readonly Asset[];
  readonly credentials: DatadogCredentials;
  readonly target: DatadogTarget;
  /** Plan only: read what exists, write nothing. */
  readonly dryRun: boolean;
  /** One line per asset, as it is done. */
  readonly report: (line: string) => void;
}

/**
 * Installs the assets: lists what the organisation holds (nothing is written before both lists are
 * read), then creates what is missing and updates what dogwatch created before. Stops at the first
 * failure with an AssetInstallError.
 */
export async function installAssets(options: InstallOptions): Promise<InstallStep[]> {
  const redact = redactor(options.credentials);
  const apis = await connect(options.target, options.credentials);
  let existing: Awaited<ReturnType<typeof listRemote>>;
  try {
    existing = await listRemote(apis);
  } catch (error) {
    throw new AssetInstallError(redact(explain(error, 'list dashboards and monitors', apis.baseUrl).message));
  }
  const plan = planInstall(options.assets, existing.dashboards, existing.monitors);
  for (const step of plan) {
    const what = `${step.asset.kind} ${step.asset.key}`;
    if (step.action === 'skip') {
      options.report(`skipped ${what}: ${step.reason}`);
      continue;
    }
    if (options.dryRun) {
      options.report(
        `would ${step.action} ${what}${step.action === 'update' ? ` (id ${step.id})` : ''}: ${step.asset.title}`,
      );
      continue;
    }
    let id: string;
    try {
      id = await apply(apis, step);
    } catch (error) {
      throw new AssetInstallError(redact(explain(error, `${step.action} ${what}`, apis.baseUrl).message));
    }
    options.report(
      `${step.action === 'create' ? 'created' : 'updated'} ${what} (id ${id}): ${step.asset.title}`,
    );
  }
  return plan;
}
