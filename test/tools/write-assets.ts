/**
 * Regenerates the committed default assets (no namespace), integrations-core style:
 * checks/<check>/assets/{dashboards,monitors}/<stem>.json and, for dogwatch's own health,
 * core/assets/{dashboards,monitors}/<stem>.json. `npm run assets:generate`;
 * test/unit/asset-files.test.ts fails when a file is stale, missing or left over.
 */
import 'reflect-metadata';
import { mkdirSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Asset } from '../../core/check/asset.js';
import { buildAssets, checkAssetSources } from '../../core/assets/asset-set.js';
import { selfAssetSource } from '../../core/assets/self-assets.js';
import { packageRoot } from '../../core/package-root.js';
import { builtinDefinitions } from './write-conf-examples.js';

export function builtinAssets(): Asset[] {
  return buildAssets([...checkAssetSources(builtinDefinitions()), selfAssetSource]);
}

/** The folder holding an owner's `dashboards/` and `monitors/`. */
function assetsFolder(owner: string): string {
  return owner === selfAssetSource.owner
    ? join(packageRoot(), 'core', 'assets')
    : join(packageRoot(), 'checks', owner, 'assets');
}

export function assetFilePath(asset: Asset): string {
  const [owner, kinds, stem] = asset.name.split('/') as [string, string, string];
  return join(assetsFolder(owner), kinds, `${stem}.json`);
}

export function renderAssetFile(asset: Asset): string {
  return `${JSON.stringify(asset.body, null, 2)}\n`;
}

/** Every asset JSON file in the asset folders, committed or left over. */
export function existingAssetFiles(owners: readonly string[]): string[] {
  return owners.flatMap((owner) =>
    ['dashboards', 'monitors'].flatMap((kinds) => {
      const dir = join(assetsFolder(owner), kinds);
      return existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => f.endsWith('.json'))
            .map((f) => join(dir, f))
        : [];
    }),
  );
}

if (process.argv[1]?.endsWith('write-assets.js')) {
  const assets = builtinAssets();
  const owners = [...new Set(assets.map((a) => a.name.split('/')[0]!))];
  for (const file of existingAssetFiles(owners)) rmSync(file);
  for (const asset of assets) {
    const path = assetFilePath(asset);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, renderAssetFile(asset));
    console.log(`wrote ${path}`);
  }
}
