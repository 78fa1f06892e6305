/**
 * The layering of the source tree, measured on the TypeScript sources with the compiler's own parser
 * (issue 15's acceptance): dependencies point down, nothing imports in a circle, and the core stays in
 * pieces small enough to read.
 *
 * Prints `# architecture: …` with the figures.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { packageRoot } from '../../core/package-root.js';

const ROOT = packageRoot();
const TOP_LEVEL = ['core', 'checks', 'app', 'emulator', 'bench', 'test'];
const MAX_FUNCTION_LINES = 80;
const MAX_CORE_FILE_LINES = 400;

/**
 * Folders of core/ that sit below the runtime: the check contract, the sources, their AWS clients, the
 * cursor store and the sinks. They are handed what they need from above (telemetry, fault injection).
 */
const BELOW_RUNTIME = [
  'core/check',
  'core/cloudwatch',
  'core/cloudwatch-logs',
  'core/aws',
  'core/state',
  'core/sink',
  'core/logs-sink',
  'core/log',
  'core/messages',
];

interface SourceFile {
  readonly path: string;
  readonly text: string;
  readonly imports: string[];
}

function listSources(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir))) {
    const path = join(dir, entry);
    if (statSync(join(ROOT, path)).isDirectory()) found.push(...listSources(path));
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/** Every relative import and re-export (type-only included), resolved to a repository path. */
function importsOf(path: string, parsed: ts.SourceFile): string[] {
  const out: string[] = [];
  const add = (specifier: ts.Expression | undefined): void => {
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) return;
    out.push(relative(ROOT, resolve(ROOT, dirname(path), specifier.text)).replace(/\.js$/, '.ts'));
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(parsed);
  return out;
}

function parseAll(): { files: Map<string, SourceFile>; parsed: Map<string, ts.SourceFile> } {
  const files = new Map<string, SourceFile>();
  const parsed = new Map<string, ts.SourceFile>();
  for (const path of TOP_LEVEL.flatMap(listSources)) {
    const text = readFileSync(join(ROOT, path), 'utf8');
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    parsed.set(path, source);
    files.set(path, { path, text, imports: importsOf(path, source) });
  }
  return { files, parsed };
}

/** Import cycles among the given files (each reported once, as the files on it). */
function cycles(files: ReadonlyMap<string, SourceFile>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (path: string): void => {
    state.set(path, 'open');
    stack.push(path);
    for (const target of files.get(path)?.imports ?? []) {
      if (!files.has(target)) continue;
      if (state.get(target) === 'open') found.push(stack.slice(stack.indexOf(target)));
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(path, 'done');
  };
  for (const path of files.keys()) if (!state.has(path)) visit(path);
  return found;
}

function longFunctions(path: string, source: ts.SourceFile): { where: string; lines: number }[] {
  const out: { where: string; lines: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.end).line;
      const name = (node as ts.FunctionLikeDeclaration).name?.getText() ?? '(anonymous)';
      out.push({ where: `${path}:${start + 1} ${name}`, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

test('dependencies point down, no import cycles, small functions and files in core', () => {
  const { files, parsed } = parseAll();
  const upward: string[] = [];
  for (const file of files.values()) {
    for (const target of file.imports) {
      const fromCore = file.path.startsWith('core/');
      if (fromCore && /^(checks|app|emulator|bench|test)\//.test(target))
        upward.push(`${file.path} → ${target}`);
      if (file.path.startsWith('checks/') && /^(app|emulator|bench|test)\//.test(target))
        upward.push(`${file.path} → ${target}`);
      if (file.path.startsWith('emulator/') && /^(app|bench|test|checks)\//.test(target))
        upward.push(`${file.path} → ${target}`);
      const below = BELOW_RUNTIME.some((dir) => file.path.startsWith(`${dir}/`));
      if (below && /^core\/(runtime|cli|status)\/|^core\/container\.ts$/.test(target))
        upward.push(`${file.path} → ${target}`);
    }
  }
  const production = new Map([...files].filter(([path]) => !/^(test|bench)\//.test(path)));
  const circles = cycles(production).map((c) => c.join(' → '));
  const functions = [...parsed]
    .filter(([path]) => /^(core|checks)\//.test(path))
    .flatMap(([path, source]) => longFunctions(path, source));
  const tooLong = functions
    .filter((f) => f.lines > MAX_FUNCTION_LINES)
    .map((f) => `${f.where}: ${f.lines} lines`);
  const coreFiles = [...files.values()]
    .filter((f) => f.path.startsWith('core/'))
    .map((f) => ({ path: f.path, lines: f.text.split('\n').length }));
  const tooBig = coreFiles
    .filter((f) => f.lines > MAX_CORE_FILE_LINES)
    .map((f) => `${f.path}: ${f.lines} lines`);
  const longest = functions.reduce((a, b) => (b.lines > a.lines ? b : a), { where: '-', lines: 0 });
  const largest = coreFiles.reduce((a, b) => (b.lines > a.lines ? b : a), { path: '-', lines: 0 });
  const importCount = [...files.values()].reduce((n, f) => n + f.imports.length, 0);
  console.log(
    `# architecture: ${files.size} files, ${importCount} relative imports; ${upward.length} pointing up, ` +
      `${circles.length} cycles; longest function in core/checks ${longest.lines} lines (${longest.where}); ` +
      `largest core file ${largest.lines} lines (${largest.path})`,
  );
  assert.ok(files.size > 100 && importCount > 300, 'the sources were found and parsed');
  assert.deepEqual(upward, [], 'imports that point up the layers');
  assert.deepEqual(circles, [], 'import cycles');
  assert.deepEqual(tooLong, [], `functions over ${MAX_FUNCTION_LINES} lines in core/ or checks/`);
  assert.deepEqual(tooBig, [], `files over ${MAX_CORE_FILE_LINES} lines in core/`);
});
