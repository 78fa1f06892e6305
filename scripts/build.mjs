#!/usr/bin/env node
// `npm run build`: compiles the TypeScript sources into dist/ with `tsc -b` (incremental: a second build
// with nothing changed takes well under a second), says what it is doing, and removes compiled files
// whose source is gone (tsc never deletes outputs, and the test runner would run a deleted test).
// Plain JavaScript on purpose: it must run before anything is compiled, with nothing but Node.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const say = (text) => process.stderr.write(`dogwatch build: ${text}\n`);

if (!existsSync(tsc)) {
  say('the dependencies are not installed (no node_modules/typescript).');
  say('run `npm ci` once in this folder (about 15-30 s), then run this command again.');
  process.exit(1);
}

const started = performance.now();
const fresh = !existsSync(join(root, 'dist', '.tsbuildinfo'));
say(
  fresh
    ? 'compiling TypeScript into dist/ (first build: 10-30 s; later builds only redo what changed) ...'
    : 'compiling what changed since the last build (tsc -b) ...',
);
const result = spawnSync(process.execPath, [tsc, '-b', join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) {
  say('TypeScript reported errors (above); nothing was started.');
  process.exit(result.status ?? 1);
}

/** Compiled files (.js, .js.map) under dist/ whose .ts source no longer exists. */
function staleOutputs(dir) {
  const stale = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      stale.push(...staleOutputs(path));
      continue;
    }
    const base = /^(.*)\.js(\.map)?$/.exec(entry)?.[1];
    if (base === undefined) continue;
    const source = join(root, relative(join(root, 'dist'), dir), `${base}.ts`);
    if (!existsSync(source)) stale.push(path);
  }
  return stale;
}

const stale = existsSync(join(root, 'dist')) ? staleOutputs(join(root, 'dist')) : [];
for (const path of stale) rmSync(path, { force: true });
const seconds = ((performance.now() - started) / 1000).toFixed(1);
say(
  `done in ${seconds} s${stale.length > 0 ? ` (removed ${stale.length} compiled file(s) whose source is gone)` : ''}`,
);
