/**
 * Reads one conf.d file into its sections (the init_config and each instance): the file's structure is
 * checked, `${VAR}` substituted, and ENC[] references found (whole values only; ENC[ inside a longer
 * value is a problem). Validation against the check's schemas happens afterwards (confd-loader.ts).
 */
import { readFile } from 'node:fs/promises';
import { ConfigProblem, formatKeyPath, type KeyPath } from './config-problem.js';
import type { ConfdFile } from './confd-discovery.js';
import { findSecretReferences, type SecretReference } from './confd-secrets.js';
import { closestMatch } from '../messages/did-you-mean.js';
import { substituteEnv, type Environment } from './env-substitution.js';
import { describeFound } from './schema-description.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

const FILE_KEYS = ['init_config', 'instances'] as const;

/** A part of a file validated as a whole: the init_config, or one instance. */
export interface Section {
  /** `['init_config']` or `['instances', 3]`. */
  readonly basePath: KeyPath;
  readonly written: unknown;
  readonly substituted: unknown;
  readonly secrets: readonly SecretReference[];
  /** Substitution and secret problems found so far (resolution adds to them). */
  readonly problems: ConfigProblem[];
  /** Full key paths those problems name, so validation does not report the same values again. */
  readonly problemPaths: Set<string>;
}

export interface ParsedFile {
  readonly file: ConfdFile;
  readonly source: YamlSource;
  readonly init: Section;
  readonly instances: readonly Section[];
}

/** Reads, parses and splits one file; never throws for bad content. */
export async function parseFile(
  file: ConfdFile,
  env: Environment,
): Promise<{ parsed?: ParsedFile; problems: ConfigProblem[] }> {
  let text: string;
  try {
    text = await readFile(file.path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    const problem = new ConfigProblem({
      file: file.displayPath,
      message: `cannot read the file (${code})`,
      hint: 'check its permissions',
    });
    return { problems: [problem] };
  }
  const result = parseYamlSource(file.displayPath, text);
  if (!result.ok) return { problems: [...result.problems] };
  const source = result.source;
  const layout = checkLayout(source, structureProblemFactory(file, source));
  if (!layout.ok) return { problems: [...layout.problems] };
  return {
    problems: [],
    parsed: {
      file,
      source,
      init: prepareSection(file, source, ['init_config'], layout.init, env),
      instances: layout.instances.map((written, index) =>
        prepareSection(file, source, ['instances', index], written, env),
      ),
    },
  };
}

/** Builds a problem in the file's layout, at a key (or at line 1 when the key is not in the file). */
type StructureProblem = (message: string, hint: string, path?: KeyPath) => ConfigProblem;

function structureProblemFactory(file: ConfdFile, source: YamlSource): StructureProblem {
  return (message, hint, path = []) =>
    new ConfigProblem({
      file: file.displayPath,
      line: source.lineOf(path) ?? 1,
      keyPath: formatKeyPath(path),
      message,
      hint,
    });
}

/** The file's top level as written, when it is a mapping of init_config and a non-empty instances list. */
type FileLayout =
  | { readonly ok: true; readonly init: unknown; readonly instances: readonly unknown[] }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/**
 * Checks the file's top level: a mapping with only init_config (a mapping or empty) and instances.
 * Problems inside the mapping end by saying that no instance of the file was loaded.
 */
function checkLayout(source: YamlSource, structure: StructureProblem): FileLayout {
  const top = source.value;
  if (top === null || typeof top !== 'object' || Array.isArray(top)) {
    const found = top === null || top === undefined ? 'an empty file' : describeFound(top);
    const problem = structure(
      `expected a mapping with init_config and instances, found ${found}`,
      'start from conf.yaml.example: `init_config:` then `instances:` with one `- option: value` item per instance',
    );
    return { ok: false, problems: [problem] };
  }
  const mapping = top as Record<string, unknown>;
  const problems = unknownTopLevelKeys(mapping, structure);
  const init = mapping.init_config ?? {};
  if (init === null || typeof init !== 'object' || Array.isArray(init)) {
    problems.push(
      structure(
        `expected a mapping of options or nothing, found ${describeFound(init)}`,
        'write `init_config:` alone on its line, or give it `option: value` lines indented below',
        ['init_config'],
      ),
    );
  }
  const instances = mapping.instances;
  if (!Array.isArray(instances) || instances.length === 0) {
    const found = instances === undefined ? 'nothing (the key is missing)' : describeFound(instances);
    problems.push(
      structure(
        `expected a non-empty list of instances, found ${found}`,
        'add `instances:` with at least one item, e.g. `instances:\\n  - regions: [us-east-1]`',
        instances === undefined ? [] : ['instances'],
      ),
    );
  }
  if (problems.length > 0 || !Array.isArray(instances)) {
    const suffix = ' (no instance of this file was loaded)';
    return { ok: false, problems: problems.map((problem) => withSuffix(problem, suffix)) };
  }
  return { ok: true, init, instances };
}

function unknownTopLevelKeys(mapping: Record<string, unknown>, structure: StructureProblem): ConfigProblem[] {
  return Object.keys(mapping)
    .filter((key) => !(FILE_KEYS as readonly string[]).includes(key))
    .map((key) => {
      const suggestion = closestMatch(key, FILE_KEYS);
      return structure(
        `unknown top-level key '${key}'${suggestion !== undefined ? ` (did you mean ${suggestion}?)` : ''}: expected init_config or instances, found '${key}'`,
        suggestion !== undefined
          ? `rename it to \`${suggestion}\``
          : 'remove it; options of an instance go under `instances:`',
        [key],
      );
    });
}

export function withSuffix(problem: ConfigProblem, suffix: string): ConfigProblem {
  return new ConfigProblem({
    file: problem.file,
    line: problem.line,
    column: problem.column,
    keyPath: problem.keyPath,
    message: `${problem.message}${suffix}`,
    hint: problem.hint,
  });
}

function prepareSection(
  file: ConfdFile,
  source: YamlSource,
  basePath: KeyPath,
  written: unknown,
  env: Environment,
): Section {
  const substitution = substituteEnv(written, env, (path) => source.isPlainScalar([...basePath, ...path]));
  const problems: ConfigProblem[] = [];
  const problemPaths = new Set<string>();
  for (const unset of substitution.unset) {
    const fullPath = [...basePath, ...unset.path];
    problemPaths.add(formatKeyPath(fullPath));
    problems.push(
      new ConfigProblem({
        file: file.displayPath,
        line: source.lineOf(fullPath),
        keyPath: formatKeyPath(fullPath),
        message: `expected environment variable ${unset.variable} to be set, found it unset`,
        hint: `export ${unset.variable}, or write \${${unset.variable}:-default} to give a default`,
      }),
    );
  }
  const { secrets, embedded } = findSecretReferences(substitution.value);
  for (const path of embedded) {
    const fullPath = [...basePath, ...path];
    problemPaths.add(formatKeyPath(fullPath));
    problems.push(
      new ConfigProblem({
        file: file.displayPath,
        line: source.lineOf(fullPath),
        keyPath: formatKeyPath(fullPath),
        message:
          'expected ENC[] to be the whole value (secrets are resolved only in whole values, as by the ' +
          'Datadog Agent), found ENC[ inside a longer value, which would be sent as written',
        hint:
          'write the whole value as ENC[<handle>] and let the secret backend return all of it ' +
          '(e.g. the whole tag "key:value"), or remove the ENC[',
      }),
    );
  }
  return { basePath, written, substituted: substitution.value, secrets, problems, problemPaths };
}
