import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckDefinition } from '../check/check.js';
import { ConfigProblem } from './config-problem.js';
import { closestMatch } from '../messages/did-you-mean.js';

/** One conf.d file to load, with the check it configures. */
export interface ConfdFile {
  /** The path to open. */
  readonly path: string;
  /** The path as shown in messages. */
  readonly displayPath: string;
  readonly definition: CheckDefinition;
}

export interface ConfdDiscovery {
  readonly files: readonly ConfdFile[];
  readonly problems: readonly ConfigProblem[];
}

const CONFIG_FILE = /\.ya?ml$/;

/** What discovery knows while it walks conf.d. */
interface DiscoveryContext {
  /** The checks by name (the first definition of a name wins). */
  readonly byName: ReadonlyMap<string, CheckDefinition>;
  readonly display: (path: string) => string;
}

const NOTHING: ConfdDiscovery = { files: [], problems: [] };

/**
 * Finds the config files of conf.d, the Agent's way: every `*.yaml` / `*.yml` in `<check>.d/`
 * (conf.yaml first, then by name) and the older flat `<check>.yaml`. `*.example` and any other
 * file are ignored. A folder or file naming an unknown check is a problem, with a suggestion.
 */
export async function discoverConfdFiles(
  confdDir: string,
  definitions: readonly CheckDefinition[],
  display: (path: string) => string,
): Promise<ConfdDiscovery> {
  const byName = new Map<string, CheckDefinition>();
  for (const definition of definitions)
    if (!byName.has(definition.name)) byName.set(definition.name, definition);
  const context: DiscoveryContext = { byName, display };

  let entries: string[];
  try {
    entries = (await readdir(confdDir)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    const problem = new ConfigProblem({
      file: display(confdDir),
      message: `cannot read the conf.d directory (${code})`,
      hint: 'create it, or point --confd / DOGWATCH_CONFD / confd_path at the folder holding <check>.d/conf.yaml',
    });
    return { files: [], problems: [problem] };
  }
  const found: ConfdDiscovery[] = [];
  for (const entry of entries) found.push(await discoverEntry(join(confdDir, entry), entry, context));
  return {
    files: found.flatMap((discovery) => discovery.files),
    problems: found.flatMap((discovery) => discovery.problems),
  };
}

/** One entry of conf.d: a `<check>.d/` folder, a flat `<check>.yaml`, or something to ignore. */
async function discoverEntry(
  path: string,
  entry: string,
  context: DiscoveryContext,
): Promise<ConfdDiscovery> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) return discoverFolder(path, entry, context);
  if (info?.isFile() && CONFIG_FILE.test(entry)) {
    const checkName = entry.replace(CONFIG_FILE, '');
    const definition = context.byName.get(checkName);
    if (!definition) return unknownCheck(checkName, path, 'file', (fixed) => `${fixed}.yaml`, context);
    return { files: [{ path, displayPath: context.display(path), definition }], problems: [] };
  }
  return NOTHING;
}

/** A `<check>.d/` folder gives its config files; a folder named like a check without `.d` is a problem. */
async function discoverFolder(
  path: string,
  entry: string,
  context: DiscoveryContext,
): Promise<ConfdDiscovery> {
  if (!entry.endsWith('.d')) {
    if (!context.byName.has(entry)) return NOTHING;
    const problem = new ConfigProblem({
      file: context.display(path),
      message: `expected a folder named ${entry}.d, found ${entry}`,
      hint: `rename the folder to ${entry}.d`,
    });
    return { files: [], problems: [problem] };
  }
  const checkName = entry.slice(0, -'.d'.length);
  const definition = context.byName.get(checkName);
  if (!definition) return unknownCheck(checkName, path, 'folder', (fixed) => `${fixed}.d`, context);
  const names = (await readdir(path).catch(() => [] as string[]))
    .filter((name) => CONFIG_FILE.test(name))
    .sort((a, b) => (a === 'conf.yaml' ? -1 : b === 'conf.yaml' ? 1 : a.localeCompare(b)));
  const files: ConfdFile[] = [];
  for (const name of names) {
    const filePath = join(path, name);
    const info = await stat(filePath).catch(() => undefined);
    if (info?.isFile()) files.push({ path: filePath, displayPath: context.display(filePath), definition });
  }
  return { files, problems: [] };
}

function unknownCheck(
  name: string,
  path: string,
  kind: 'folder' | 'file',
  rename: (fixed: string) => string,
  context: DiscoveryContext,
): ConfdDiscovery {
  const known = [...context.byName.keys()];
  const suggestion = closestMatch(name, known);
  const didYouMean = suggestion !== undefined ? ` (did you mean ${suggestion}?)` : '';
  const problem = new ConfigProblem({
    file: context.display(path),
    message: `unknown check '${name}'${didYouMean}: expected the ${kind} to be named after one of the checks (${known.join(', ')}), found '${name}'`,
    hint:
      suggestion !== undefined
        ? `rename the ${kind} to ${rename(suggestion)}`
        : `remove the ${kind}, or name it after a check (${known.join(', ')})`,
  });
  return { files: [], problems: [problem] };
}
