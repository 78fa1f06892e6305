/**
 * Reads one conf.d file into its sections (the init_config and each instance): the file's structure is
 * checked, `${VAR}` substituted, and ENC[] references found (whole values only; ENC[ inside a longer
 * value is a problem). Validation against the check's schemas happens afterwards (confd-loader.ts).
 */
import { readFile } from 'node:fs/promises';
import { ConfigProblem, formatKeyPath, type KeyPath } from './config-problem.js';
import type { ConfdFile } from './confd-discovery.js';
import { findSecretReferences, type SecretReference } from './confd-secrets.js';
import { closestMatch } from './did-you-mean.js';
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
  const where = file.displayPath;
  let text: string;
  try {
    text = await readFile(file.path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return {
      problems: [
        new ConfigProblem({
          file: where,
          message: `cannot read the file (${code})`,
          hint: 'check its permissions',
        }),
      ],
    };
  }
  const result = parseYamlSource(where, text);
  if (!result.ok) return { problems: [...result.problems] };
  const source = result.source;
  const top = source.value;
  const structure = (message: string, hint: string, path: KeyPath = []) =>
    new ConfigProblem({
      file: where,
      line: source.lineOf(path) ?? 1,
      keyPath: formatKeyPath(path),
      message,
      hint,
    });

  if (top === null || typeof top !== 'object' || Array.isArray(top)) {
    const found = top === null || top === undefined ? 'an empty file' : describeFound(top);
    return {
      problems: [
        structure(
          `expected a mapping with init_config and instances, found ${found}`,
          'start from conf.yaml.example: `init_config:` then `instances:` with one `- option: value` item per instance',
        ),
      ],
    };
  }
  const mapping = top as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  for (const key of Object.keys(mapping)) {
    if ((FILE_KEYS as readonly string[]).includes(key)) continue;
    const suggestion = closestMatch(key, FILE_KEYS);
    problems.push(
      structure(
        `unknown top-level key '${key}'${suggestion !== undefined ? ` (did you mean ${suggestion}?)` : ''}: expected init_config or instances, found '${key}'`,
        suggestion !== undefined
          ? `rename it to \`${suggestion}\``
          : 'remove it; options of an instance go under `instances:`',
        [key],
      ),
    );
  }
  const writtenInit = mapping.init_config ?? {};
  if (writtenInit === null || typeof writtenInit !== 'object' || Array.isArray(writtenInit)) {
    problems.push(
      structure(
        `expected a mapping of options or nothing, found ${describeFound(writtenInit)}`,
        'write `init_config:` alone on its line, or give it `option: value` lines indented below',
        ['init_config'],
      ),
    );
  }
  const writtenInstances = mapping.instances;
  if (!Array.isArray(writtenInstances) || writtenInstances.length === 0) {
    const found =
      writtenInstances === undefined ? 'nothing (the key is missing)' : describeFound(writtenInstances);
    problems.push(
      structure(
        `expected a non-empty list of instances, found ${found}`,
        'add `instances:` with at least one item, e.g. `instances:\\n  - regions: [us-east-1]`',
        writtenInstances === undefined ? [] : ['instances'],
      ),
    );
  }
  if (problems.length > 0 || !Array.isArray(writtenInstances)) {
    return {
      problems: problems.map((problem) => withSuffix(problem, ' (no instance of this file was loaded)')),
    };
  }
  return {
    problems: [],
    parsed: {
      file,
      source,
      init: prepareSection(file, source, ['init_config'], writtenInit, env),
      instances: writtenInstances.map((written, index) =>
        prepareSection(file, source, ['instances', index], written, env),
      ),
    },
  };
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
