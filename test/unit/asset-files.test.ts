import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { assetFilePath, builtinAssets, existingAssetFiles, renderAssetFile } from '../tools/write-assets.js';

const STALE = 'stale asset file: run `npm run assets:generate`';
const assets = builtinAssets();

for (const asset of assets) {
  test(`${asset.name} is committed as generated (npm run assets:generate)`, () => {
    const path = assetFilePath(asset);
    assert.ok(existsSync(path), `${path} is missing: run \`npm run assets:generate\``);
    assert.equal(readFileSync(path, 'utf8'), renderAssetFile(asset), STALE);
  });
}

test('no asset file is left over from an asset that no longer exists', () => {
  const owners = [...new Set(assets.map((a) => a.name.split('/')[0]!))];
  const expected = assets.map(assetFilePath).sort();
  assert.deepEqual(existingAssetFiles(owners).sort(), expected, STALE);
});
