/**
 * Runs every compiled `*.test.js` under dist/test with node's built-in runner.
 * (Node 20's `node --test <dir>` would also execute helper modules such as the emulator, because it
 * treats every file under a `test/` folder as a test.)
 * Usage: node dist/test/run.js [substring-filter ...]
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith('.test.js')) found.push(path);
  }
  return found.sort();
}

const filters = process.argv.slice(2);
const files = findTests(root).filter(
  (file) => filters.length === 0 || filters.some((f) => relative(root, file).includes(f)),
);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
