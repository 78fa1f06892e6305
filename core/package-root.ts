import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding dogwatch's package.json, found from this module's location, so data files
 * (checks' metadata.csv) resolve the same way from sources, from dist/ and inside the container.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'checks'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('cannot find the dogwatch package root (package.json beside checks/)');
    dir = parent;
  }
}

export function packageFile(...segments: string[]): URL {
  return new URL(`file://${join(packageRoot(), ...segments)}`);
}
