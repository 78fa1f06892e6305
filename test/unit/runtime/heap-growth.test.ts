/**
 * `dogwatch run` bounds V8's heap growth (see node-support.ts): a process holding a large live heap and
 * making garbage then reserves far less heap than Node's default lets it. Measured in child processes,
 * one with the default and one bounded, doing the same work.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { boundHeapGrowth } from '../../../core/runtime/node-support.js';

const run = promisify(execFile);
const MODULE = pathToFileURL(new URL('../../../core/runtime/node-support.js', import.meta.url).pathname).href;

/** ~130 MB kept alive, then garbage made in small lists: the largest heap V8 reserved meanwhile (MB). */
const WORK = `
  const { boundHeapGrowth } = await import(${JSON.stringify(MODULE)});
  if (process.argv[1] === 'bounded') boundHeapGrowth();
  const kept = [];
  for (let i = 0; i < 1.5e6; i++) kept.push({ a: i, b: 'x' + i });
  let reserved = 0;
  for (let round = 0; round < 40; round++) {
    let garbage = [];
    for (let i = 0; i < 3e5; i++) {
      garbage.push({ a: i, b: [i, i + 1] });
      if (garbage.length > 5e4) garbage = [];
    }
    reserved = Math.max(reserved, process.memoryUsage().heapTotal);
  }
  console.log(JSON.stringify({ reservedMb: reserved / 1e6, kept: kept.length }));
`;

async function reservedMb(mode: 'default' | 'bounded'): Promise<number> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', WORK, mode], {
    timeout: 60_000,
  });
  const result = JSON.parse(stdout) as { reservedMb: number; kept: number };
  assert.equal(result.kept, 1.5e6);
  return result.reservedMb;
}

describe('V8 heap growth', () => {
  test('bounded, the same work reserves far less heap than by default', async () => {
    const byDefault = await reservedMb('default');
    const bounded = await reservedMb('bounded');
    assert.ok(
      bounded < 0.7 * byDefault,
      `bounded ${bounded.toFixed(0)} MB, default ${byDefault.toFixed(0)} MB`,
    );
  });

  test('a --heap-growing-percent the user gave Node is left as it is', () => {
    assert.equal(boundHeapGrowth(['--heap-growing-percent=80']), false);
    assert.equal(boundHeapGrowth(['--max-old-space-size=512', '--heap_growing_percent', '80']), false);
    assert.equal(boundHeapGrowth(['--heap-growing-percentage-typo=1', '--inspect']), true);
  });
});
