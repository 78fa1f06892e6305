import type { client } from '@datadog/datadog-api-client';
import { closestMatch } from '../messages/did-you-mean.js';

/** The sites the official client knows (its default server's `site` variable). */
type ClientSite = typeof client.server1 extends client.ServerConfiguration<infer V> ? V['site'] : never;

/** Datadog sites, as DD_SITE names them (the host after `api.`). */
export const DATADOG_SITES = [
  'datadoghq.com',
  'us3.datadoghq.com',
  'us5.datadoghq.com',
  'datadoghq.eu',
  'ap1.datadoghq.com',
  'ap2.datadoghq.com',
  'uk1.datadoghq.com',
  'ddog-gov.com',
  'us2.ddog-gov.com',
] as const satisfies readonly ClientSite[];

// Fails to compile when a client upgrade knows a site this list does not.
const _everyClientSite: [Exclude<ClientSite, (typeof DATADOG_SITES)[number]>] extends [never] ? true : never =
  true;
void _everyClientSite;

const DEFAULT_SITE = 'datadoghq.com';

export class DatadogSiteError extends Error {}

/**
 * DD_SITE, checked before any request: a mistyped site would otherwise surface as a DNS failure of a
 * host the user never wrote. Unset or empty means datadoghq.com, as for the Agent.
 */
export function datadogSite(value: string | undefined): string {
  const site = value?.trim().toLowerCase() ?? '';
  if (site === '') return DEFAULT_SITE;
  if ((DATADOG_SITES as readonly string[]).includes(site)) return site;
  // A URL copied from the browser (`https://app.datadoghq.eu/`) names the site too.
  const host = site
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '')
    .replace(/^(app|api)\./, '');
  const hint = (DATADOG_SITES as readonly string[]).includes(host) ? host : closestMatch(site, DATADOG_SITES);
  throw new DatadogSiteError(
    `DD_SITE=${value} is not a Datadog site${hint ? ` (did you mean ${hint}?)` : ''}. ` +
      `Valid sites: ${DATADOG_SITES.join(', ')} (the host of your Datadog URL without "app.")`,
  );
}
