import { existsSync } from 'node:fs';
import type { Asset } from '../check/asset.js';
import { AssetSelectionError, buildAssets, checkAssetSources, selectAssets } from '../assets/asset-set.js';
import { AssetInstallError, installAssets } from '../assets/asset-installer.js';
import { datadogSite, DatadogSiteError } from '../assets/datadog-site.js';
import { selfAssetSource } from '../assets/self-assets.js';
import type { CheckDefinition } from '../check/check.js';
import { clockFromSpec } from '../clock.js';
import { loadConfd } from '../config/confd-loader.js';
import { ConfigError } from '../config/config-problem.js';
import { loadDaemonSettings, type DaemonFlags, type DaemonSettings } from '../config/daemon-settings.js';
import { secretResolverFor } from '../config/secret-resolver.js';
import {
  checkDefinitions,
  createRootContainer,
  processCheckModules,
  type CheckModuleLoader,
} from '../container.js';
import { createSilentLogger } from '../log/logger.js';
import { StatusRegistry } from '../status/status-registry.js';

export interface AssetFlags extends DaemonFlags {
  /** `''` asks for the names without a namespace, whatever conf.d says. */
  readonly namespace?: string;
}

/** A failure the user can act on: printed as one line, exit 1. */
class AssetsCommandError extends Error {}

function settingsOf(flags: AssetFlags): DaemonSettings {
  try {
    return loadDaemonSettings({ flags, env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) throw new AssetsCommandError(error.problems.map(String).join('\n'));
    throw error;
  }
}

/**
 * The namespaces each check's metrics are sent under, from the conf.d instances (an instance without
 * `namespace:` counts as none). A check with no instance, or no conf.d at all: none.
 */
async function confdNamespaces(
  settings: DaemonSettings,
  definitions: readonly CheckDefinition[],
): Promise<Map<string, (string | undefined)[]>> {
  const byCheck = new Map<string, (string | undefined)[]>();
  if (!existsSync(settings.confdPath)) return byCheck;
  const { instances, problems } = await loadConfd({
    confdDir: settings.confdPath,
    definitions,
    env: process.env,
    secretResolver: secretResolverFor(settings.secretBackend),
  });
  if (problems.length > 0) {
    process.stderr.write(
      `dogwatch assets: ${problems.length} problem(s) in ${settings.confdPath} (see dogwatch configcheck); ` +
        'the namespaces of the instances they affect are not known\n',
    );
  }
  for (const instance of instances) {
    const namespaces = byCheck.get(instance.checkName) ?? [];
    if (!namespaces.includes(instance.reserved.namespace)) namespaces.push(instance.reserved.namespace);
    byCheck.set(instance.checkName, namespaces);
  }
  return byCheck;
}

/** Every asset for the checks in the container (custom check modules included) and dogwatch's own. */
async function assetsFor(flags: AssetFlags, loadChecks: CheckModuleLoader): Promise<Asset[]> {
  const settings = settingsOf(flags);
  const container = createRootContainer({
    clock: clockFromSpec(undefined),
    logger: createSilentLogger(),
    status: new StatusRegistry(),
    stateDir: settings.stateDir,
    modules: await processCheckModules(loadChecks, process.env.DOGWATCH_CHECK_MODULES),
  });
  try {
    const definitions = checkDefinitions(container);
    const fromConfd =
      flags.namespace === undefined ? await confdNamespaces(settings, definitions) : undefined;
    const chosen = flags.namespace || undefined;
    return buildAssets([...checkAssetSources(definitions), selfAssetSource], (owner) =>
      fromConfd ? (fromConfd.get(owner) ?? [undefined]) : [chosen],
    );
  } finally {
    await container.unbindAllAsync();
  }
}

async function listCommand(loadChecks: CheckModuleLoader, flags: AssetFlags): Promise<void> {
  for (const asset of await assetsFor(flags, loadChecks))
    process.stdout.write(`${asset.key}\t${asset.kind}\t${asset.title}\n`);
}

async function printCommand(
  loadChecks: CheckModuleLoader,
  name: string | undefined,
  flags: AssetFlags,
): Promise<void> {
  const assets = selectAssets(await assetsFor(flags, loadChecks), name ? [name] : []);
  const only = assets.length === 1 ? assets[0] : undefined;
  // One asset: exactly the API's JSON. Several: an object keyed by asset key.
  const json = only ? only.body : Object.fromEntries(assets.map((a) => [a.key, a.body]));
  process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
}

export interface InstallFlags extends AssetFlags {
  readonly dryRun?: boolean;
  readonly apiUrl?: string;
}

function apiUrlOf(flags: InstallFlags): string | undefined {
  if (flags.apiUrl === undefined) return undefined;
  const url = URL.canParse(flags.apiUrl) ? new URL(flags.apiUrl) : undefined;
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new AssetsCommandError(`--api-url ${flags.apiUrl}: expected http(s)://host[:port]`);
  }
  return flags.apiUrl;
}

async function installCommand(
  loadChecks: CheckModuleLoader,
  names: readonly string[],
  flags: InstallFlags,
): Promise<void> {
  const apiKey = process.env.DD_API_KEY ?? '';
  const appKey = process.env.DD_APP_KEY ?? '';
  if (apiKey === '' || appKey === '') {
    throw new AssetsCommandError(
      'set DD_API_KEY and DD_APP_KEY (an API key and an application key of the Datadog organisation), ' +
        'and DD_SITE unless it is datadoghq.com',
    );
  }
  const site = datadogSite(process.env.DD_SITE);
  const apiUrl = apiUrlOf(flags);
  const assets = selectAssets(await assetsFor(flags, loadChecks), names);
  const steps = await installAssets({
    assets,
    credentials: { apiKey, appKey },
    target: { site, ...(apiUrl ? { apiUrl } : {}) },
    dryRun: flags.dryRun ?? false,
    report: (line) => process.stdout.write(`${line}\n`),
  });
  const skipped = steps.filter((s) => s.action === 'skip').length;
  process.stdout.write(
    `${flags.dryRun ? 'dry run: nothing written; ' : ''}${steps.length - skipped} asset(s) ` +
      `${flags.dryRun ? 'would be installed' : 'installed'} on ${apiUrl ?? site}, ${skipped} skipped\n`,
  );
}

/** Runs a subcommand; a failure the user can act on is one line on stderr and exit code 1. */
function guarded<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await run(...args);
    } catch (error) {
      const known = [AssetsCommandError, AssetSelectionError, AssetInstallError, DatadogSiteError];
      if (!known.some((kind) => error instanceof kind)) throw error;
      process.stderr.write(`dogwatch assets: ${(error as Error).message}\n`);
      process.exitCode = 1;
    }
  };
}

/**
 * `dogwatch assets list|print|install`: the checks' dashboards and recommended monitors, for the
 * namespaces conf.d sends metrics under (or `--namespace`). `withCommonOptions` adds --config/--confd.
 */
/** The `dogwatch assets` actions, loaded only when one runs (see program.ts). */
export const listAssets = guarded(listCommand);
export const printAsset = guarded(printCommand);
export const installAssetsCommand = guarded(installCommand);
