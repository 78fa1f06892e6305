import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckDefinition } from '../check/check.js';
import { ConfigProblem } from './config-problem.js';
import { closestMatch } from './did-you-mean.js';

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
  const known = [...byName.keys()];
  const files: ConfdFile[] = [];
  const problems: ConfigProblem[] = [];

  let entries: string[];
  try {
    entries = (await readdir(confdDir)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return {
      files,
      problems: [
        new ConfigProblem({
          file: display(confdDir),
          message: `cannot read the conf.d directory (${code})`,
          hint: 'create it, or point --confd / DOGWATCH_CONFD / confd_path at the folder holding <check>.d/conf.yaml',
        }),
      ],
    };
  }

  const unknownCheck = (
    name: string,
    path: string,
    kind: 'folder' | 'file',
    rename: (fixed: string) => string,
  ) => {
    const suggestion = closestMatch(name, known);
    const didYouMean = suggestion !== undefined ? ` (did you mean ${suggestion}?)` : '';
    problems.push(
      new ConfigProblem({
        file: display(path),
        message: `unknown check '${name}'${didYouMean}: expected the ${kind} to be named after one of the checks (${known.join(', ')}), found '${name}'`,
        hint:
          suggestion !== undefined
            ? `rename the ${kind} to ${rename(suggestion)}`
            : `remove the ${kind}, or name it after a check (${known.join(', ')})`,
      }),
    );
  };

  for (const entry of entries) {
    const path = join(confdDir, entry);
    const info = await stat(path).catch(() => undefined);
    if (!info) continue;
    if (info.isDirectory()) {
      if (!entry.endsWith('.d')) {
        if (byName.has(entry)) {
          problems.push(
            new ConfigProblem({
              file: display(path),
              message: `expected a folder named ${entry}.d, found ${entry}`,
              hint: `rename the folder to ${entry}.d`,
            }),
          );
        }
        continue;
      }
      const checkName = entry.slice(0, -'.d'.length);
      const definition = byName.get(checkName);
      if (!definition) {
        unknownCheck(checkName, path, 'folder', (fixed) => `${fixed}.d`);
        continue;
      }
      const inner = (await readdir(path).catch(() => [] as string[]))
        .filter((name) => CONFIG_FILE.test(name))
        .sort((a, b) => (a === 'conf.yaml' ? -1 : b === 'conf.yaml' ? 1 : a.localeCompare(b)));
      for (const name of inner) {
        const filePath = join(path, name);
        const fileInfo = await stat(filePath).catch(() => undefined);
        if (fileInfo?.isFile()) files.push({ path: filePath, displayPath: display(filePath), definition });
      }
    } else if (info.isFile() && CONFIG_FILE.test(entry)) {
      const checkName = entry.replace(CONFIG_FILE, '');
      const definition = byName.get(checkName);
      if (!definition) unknownCheck(checkName, path, 'file', (fixed) => `${fixed}.yaml`);
      else files.push({ path, displayPath: display(path), definition });
    }
  }
  return { files, problems };
}
