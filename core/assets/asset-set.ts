import type { CheckDefinition } from '../check/check.js';
import { closestMatch } from '../messages/did-you-mean.js';
import type { Asset, AssetDraft, AssetOptions } from '../check/asset.js';

/** Whoever describes assets: a check (through its definition), or dogwatch itself. */
export interface AssetSource {
  /** The check name, or `dogwatch` for dogwatch's own health. */
  readonly owner: string;
  /** False for assets over `dogwatch.*` self-metrics, which no namespace prefixes. */
  readonly namespaced: boolean;
  readonly build: (options: AssetOptions) => readonly AssetDraft[];
}

/** Every monitor dogwatch installs carries this tag; `dogwatch assets install` lists by it. */
export const MANAGED_MONITOR_TAG = 'created_by:dogwatch';
const ASSET_TAG = 'dogwatch_asset';
/** The last line of a dashboard's description: which asset it is. */
const DASHBOARD_MARK = 'dogwatch-asset:';

/** The asset key a monitor's tags name, if it is one of dogwatch's. */
export function monitorKeyOf(tags: readonly string[] | undefined): string | undefined {
  const tag = tags?.find((t) => t.startsWith(`${ASSET_TAG}:`));
  return tag?.slice(ASSET_TAG.length + 1);
}

/** The asset key a dashboard's description names, if it is one of dogwatch's. */
export function dashboardKeyOf(description: string | undefined): string | undefined {
  const line = description?.trimEnd().split('\n').pop()?.trim();
  return line?.startsWith(DASHBOARD_MARK) ? line.slice(DASHBOARD_MARK.length).trim() : undefined;
}

/**
 * Names the draft and marks it as dogwatch's: a dashboard by the last line of its description, a
 * monitor by its tags (dashboard tags are reserved for teams). A namespaced asset says its namespace
 * in its title, so the two sets are told apart in Datadog's lists.
 */
export function finishAsset(owner: string, options: AssetOptions, draft: AssetDraft): Asset {
  const name = `${owner}/${draft.kind}s/${draft.stem}`;
  const namespace = options.namespace;
  // Datadog lowercases tags; the key is compared with what comes back.
  const key = (namespace ? `${namespace}:${name}` : name).toLowerCase();
  const identity = { name, key, ...(namespace ? { namespace } : {}) };
  if (draft.kind === 'dashboard') {
    const title = namespace ? `${draft.body.title} [namespace ${namespace}]` : draft.body.title;
    const description = `${draft.body.description}\n\n${DASHBOARD_MARK} ${key}`;
    return { ...identity, kind: 'dashboard', title, body: { ...draft.body, title, description } };
  }
  const title = namespace ? `${draft.body.name} [namespace ${namespace}]` : draft.body.name;
  const tags = [...draft.body.tags, MANAGED_MONITOR_TAG, `${ASSET_TAG}:${key}`];
  return { ...identity, kind: 'monitor', title, body: { ...draft.body, name: title, tags } };
}

/** The checks that describe assets, in container order. */
export function checkAssetSources(definitions: readonly CheckDefinition[]): AssetSource[] {
  return definitions.flatMap((definition) => {
    const build = definition.assets;
    return build ? [{ owner: definition.name, namespaced: true, build }] : [];
  });
}

/**
 * Every asset of every source, once per namespace its owner is sent under (`undefined`: none). A
 * source that is not namespaced is built once.
 */
export function buildAssets(
  sources: readonly AssetSource[],
  namespacesOf: (owner: string) => readonly (string | undefined)[] = () => [undefined],
): Asset[] {
  const assets: Asset[] = [];
  for (const source of sources) {
    const namespaces = source.namespaced ? namespacesOf(source.owner) : [undefined];
    for (const namespace of namespaces.length > 0 ? namespaces : [undefined]) {
      const options: AssetOptions = namespace ? { namespace } : {};
      for (const draft of source.build(options)) assets.push(finishAsset(source.owner, options, draft));
    }
  }
  const seen = new Set<string>();
  for (const asset of assets) {
    if (seen.has(asset.key)) throw new Error(`two assets are named ${asset.key}`);
    seen.add(asset.key);
  }
  return assets;
}

export class AssetSelectionError extends Error {}

/**
 * The assets a command line names: an asset name or key (`amazon_lambda/dashboards/overview`,
 * `foo:amazon_lambda/…`), or a prefix ending at a `/` (`amazon_lambda`, `amazon_lambda/monitors`).
 * No pattern: all. A pattern that matches nothing is an error with the closest name.
 */
export function selectAssets(assets: readonly Asset[], patterns: readonly string[]): Asset[] {
  if (patterns.length === 0) return [...assets];
  const matches = (asset: Asset, pattern: string): boolean =>
    [asset.name, asset.key].some((id) => id === pattern || id.startsWith(`${pattern.replace(/\/$/, '')}/`));
  for (const pattern of patterns) {
    if (assets.some((asset) => matches(asset, pattern))) continue;
    const hint = closestMatch(
      pattern,
      assets.map((a) => a.key),
    );
    throw new AssetSelectionError(
      `no asset is named "${pattern}"${hint ? ` — did you mean ${hint}?` : ''} (dogwatch assets list shows them)`,
    );
  }
  return assets.filter((asset) => patterns.some((pattern) => matches(asset, pattern)));
}
