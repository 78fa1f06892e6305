/**
 * `npm run build` (scripts/build.mjs): incremental, says what it does, fails clearly before `npm ci`, and
 * removes compiled files whose source is gone. Run on a tiny project copied to a temp folder, so the test
 * never rebuilds the dist/ it runs from.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { packageRoot } from '../../core/package-root.js';

const run = promisify(execFile);
const root = packageRoot();
const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A two-file TypeScript project laid out like dogwatch, with the real build script. */
async function tinyProject(withDependencies: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dogwatch-build-'));
  dirs.push(dir);
  await mkdir(join(dir, 'scripts'));
  await mkdir(join(dir, 'src'));
  await copyFile(join(root, 'scripts', 'build.mjs'), join(dir, 'scripts', 'build.mjs'));
  await copyFile(join(root, 'tsconfig.build.json'), join(dir, 'tsconfig.build.json'));
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { rootDir: '.', outDir: 'dist', module: 'NodeNext', target: 'ES2022', types: [] },
      include: ['src'],
    }),
  );
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  await writeFile(join(dir, 'src', 'a.ts'), 'export const a: number = 1;\n');
  await writeFile(join(dir, 'src', 'b.ts'), 'export const b: number = 2;\n');
  if (withDependencies) await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

const build = (dir: string) => run(process.execPath, [join(dir, 'scripts', 'build.mjs')], { cwd: dir });

test('package.json scripts build incrementally and never wipe dist/', async () => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  assert.equal(pkg.scripts.build, 'node scripts/build.mjs');
  for (const [name, script] of Object.entries(pkg.scripts)) {
    assert.doesNotMatch(script, /rmSync\(.dist|rm -rf dist|rimraf/, `script ${name} deletes dist/`);
    // Only the type check may call tsc itself (it emits nothing).
    if (name !== 'typecheck')
      assert.doesNotMatch(script, /(^|&&\s*)tsc\b/, `script ${name} runs tsc instead of the build`);
  }
});

test('before npm ci, the build says to run npm ci (not "tsc: not found")', async () => {
  const dir = await tinyProject(false);
  await assert.rejects(build(dir), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr ?? '', /dependencies are not installed/);
    assert.match(error.stderr ?? '', /run `npm ci`/);
    return true;
  });
});

test('a second build with nothing changed rewrites nothing; a deleted source loses its output', async () => {
  const dir = await tinyProject(true);
  const first = await build(dir);
  assert.match(first.stderr, /dogwatch build: compiling TypeScript into dist\//);
  assert.match(first.stderr, /dogwatch build: done in [\d.]+ s/);
  const output = join(dir, 'dist', 'src', 'a.js');
  const before = (await stat(output)).mtimeMs;

  const second = await build(dir);
  assert.match(second.stderr, /compiling what changed since the last build/);
  assert.equal((await stat(output)).mtimeMs, before, 'an up-to-date build rewrote dist/src/a.js');

  await rm(join(dir, 'src', 'b.ts'));
  const third = await build(dir);
  assert.match(third.stderr, /removed \d compiled file\(s\) whose source is gone/);
  await assert.rejects(stat(join(dir, 'dist', 'src', 'b.js')), { code: 'ENOENT' });
  assert.equal((await stat(output)).mtimeMs, before);
});
