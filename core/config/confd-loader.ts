import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { isAbsolute, relative } from 'node:path';
import type { z } from 'zod';
import type { CheckDefinition } from '../check/check.js';
import { ConfigProblem, formatKeyPath, type KeyPath } from './config-problem.js';
import { discoverConfdFiles, type ConfdFile } from './confd-discovery.js';
import { closestMatch } from './did-you-mean.js';
import { substituteEnv, type Environment } from './env-substitution.js';
import { canonicalJson, instanceId } from './instance-id.js';
import type { LoadedInstance } from './loaded-instance.js';
import { isSecretKeyName, MASK } from './mask-secrets.js';
import {
  buildInitConfigSchema,
  buildInstanceSchema,
  effectiveReservedOptions,
  ignoredAgentKeys,
} from './reserved-keys.js';
import { describeFound, inputJsonSchema, type JsonSchema } from './schema-description.js';
import {
  SecretBackendError,
  secretHandleOf,
  type SecretResolution,
  type SecretResolver,
} from './secret-resolver.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';
import { issuesToProblems } from './zod-problems.js';

export interface LoadConfdOptions {
  readonly confdDir: string;
  readonly definitions: readonly CheckDefinition[];
  /** For `${VAR}` substitution. */
  readonly env: Environment;
  /** Absent when no secret backend is configured; every ENC[] value is then a problem. */
  readonly secretResolver?: SecretResolver | undefined;
  /** File paths in problems are shown relative to this folder when inside it. Default: process.cwd(). */
  readonly displayRoot?: string;
}

export interface ConfdLoadResult {
  readonly instances: readonly LoadedInstance[];
  readonly problems: readonly ConfigProblem[];
}

const FILE_KEYS = ['init_config', 'instances'] as const;
const NO_BACKEND = 'no secret backend is configured';
/** Shorter resolved secrets are not scrubbed from messages: they would mask ordinary words. */
const MIN_SCRUBBED_SECRET_LENGTH = 4;

/** An ENC[] value found in a file, before resolution. */
interface SecretReference {
  /** Relative to the init_config or the instance that holds it. */
  readonly path: KeyPath;
  readonly handle: string;
}

/** A part of a file validated as a whole: the init_config, or one instance. */
interface Section {
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

/** A valid instance, before duplicates are rejected. */
interface Candidate {
  readonly instance: LoadedInstance;
  /** `instances[2]` and the line of its `name`, for the duplicate problem. */
  readonly keyPath: string;
  readonly nameLine: number | undefined;
}

interface ParsedFile {
  readonly file: ConfdFile;
  readonly source: YamlSource;
  readonly init: Section;
  readonly instances: readonly Section[];
}

/**
 * Loads every instance of conf.d. Contract: never throws for bad configuration; a problem in a file's
 * structure or init_config disables that file's instances, a problem in one instance disables only
 * that instance, and everything else loads. All ENC[] handles of the load are resolved in one backend
 * call. No problem message contains a resolved secret.
 */
export async function loadConfd(options: LoadConfdOptions): Promise<ConfdLoadResult> {
  const root = options.displayRoot ?? process.cwd();
  const display = (path: string): string => {
    const rel = relative(root, path);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
  };
  const discovery = await discoverConfdFiles(options.confdDir, options.definitions, display);
  const problems: ConfigProblem[] = [...discovery.problems];

  const parsed: ParsedFile[] = [];
  for (const file of discovery.files) {
    const result = await parseFile(file, options.env);
    problems.push(...result.problems);
    if (result.parsed) parsed.push(result.parsed);
  }

  const resolutions = await resolveAll(parsed, options.secretResolver);
  const secretValues = new Set<string>();
  for (const resolution of resolutions.values()) {
    if ('value' in resolution && resolution.value.length >= MIN_SCRUBBED_SECRET_LENGTH)
      secretValues.add(resolution.value);
  }

  const candidates: Candidate[] = [];
  for (const file of parsed) {
    const loaded = validateFile(file, resolutions);
    problems.push(...loaded.problems);
    candidates.push(...loaded.candidates);
  }

  const unique = rejectDuplicates(candidates, problems);
  return {
    instances: unique,
    problems: problems.map((problem) => problem.map((text) => scrub(text, secretValues))),
  };
}

function scrub(text: string, secrets: ReadonlySet<string>): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(MASK);
  return out;
}

async function parseFile(
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

function withSuffix(problem: ConfigProblem, suffix: string): ConfigProblem {
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
  const secrets: SecretReference[] = [];
  const collect = (value: unknown, path: KeyPath): void => {
    if (typeof value === 'string') {
      const handle = secretHandleOf(value);
      if (handle !== undefined) secrets.push({ path, handle });
    } else if (Array.isArray(value)) value.forEach((item, index) => collect(item, [...path, index]));
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) collect(item, [...path, key]);
    }
  };
  collect(substitution.value, []);
  return { basePath, written, substituted: substitution.value, secrets, problems, problemPaths };
}

async function resolveAll(
  files: readonly ParsedFile[],
  resolver: SecretResolver | undefined,
): Promise<ReadonlyMap<string, SecretResolution>> {
  const handles = new Set<string>();
  for (const file of files) {
    for (const section of [file.init, ...file.instances])
      for (const secret of section.secrets) handles.add(secret.handle);
  }
  if (handles.size === 0) return new Map();
  const everyHandle = (error: string) => new Map([...handles].map((handle) => [handle, { error }] as const));
  if (!resolver) {
    return everyHandle(NO_BACKEND);
  }
  try {
    return await resolver.resolve([...handles]);
  } catch (error) {
    const reason = error instanceof SecretBackendError ? error.message : 'the secret backend failed';
    return everyHandle(reason);
  }
}

/** Replaces ENC[] values by their secrets in a copy; failures become problems of the section. */
function resolveSection(
  file: ParsedFile,
  section: Section,
  resolutions: ReadonlyMap<string, SecretResolution>,
): { value: unknown; secretPaths: KeyPath[] } {
  let value = section.substituted;
  const secretPaths: KeyPath[] = [];
  for (const secret of section.secrets) {
    const resolution = resolutions.get(secret.handle) ?? {
      error: 'the backend returned nothing for this handle',
    };
    const fullPath = [...section.basePath, ...secret.path];
    if ('error' in resolution) {
      section.problemPaths.add(formatKeyPath(fullPath));
      const noBackend = resolution.error === NO_BACKEND;
      section.problems.push(
        new ConfigProblem({
          file: file.file.displayPath,
          line: file.source.lineOf(fullPath),
          keyPath: formatKeyPath(fullPath),
          message: `expected the ENC[] secret to resolve, found it unresolvable: ${resolution.error}`,
          hint: noBackend
            ? 'set secret_backend_command in dogwatch.yaml (the Agent secret backend protocol), or write the value without ENC[]'
            : 'check the handle name and the secret backend (run it by hand with the same JSON on stdin)',
        }),
      );
      continue;
    }
    value = setAt(value, secret.path, resolution.value);
    secretPaths.push(secret.path);
  }
  return { value, secretPaths };
}

function setAt(root: unknown, path: KeyPath, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(root) && typeof head === 'number') {
    return (root as readonly unknown[]).map((item, index) =>
      index === head ? setAt(item, rest, replacement) : item,
    );
  }
  if (root !== null && typeof root === 'object' && head !== undefined) {
    const copy: Record<string, unknown> = { ...(root as Record<string, unknown>) };
    Object.defineProperty(copy, head, {
      value: setAt((root as Record<string, unknown>)[head], rest, replacement),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return copy;
  }
  return root;
}

function validateSection(
  file: ParsedFile,
  section: Section,
  value: unknown,
  schema: z.ZodObject,
  jsonSchema: JsonSchema,
  secretPaths: readonly KeyPath[],
  optionsName: string,
): { data?: Record<string, unknown>; problems: ConfigProblem[] } {
  const secretSet = new Set(secretPaths.map((path) => formatKeyPath(path)));
  const result = schema.safeParse(value);
  if (result.success && section.problems.length === 0) return { data: result.data, problems: [] };
  const zodProblems = result.success
    ? []
    : issuesToProblems(result.error.issues, {
        file: file.file.displayPath,
        source: file.source,
        basePath: section.basePath,
        value,
        jsonSchema,
        isSecret: (path) =>
          secretSet.has(formatKeyPath(path)) || isSecretKeyName(path[path.length - 1] ?? ''),
        optionsName,
        // Substitution and secret problems already name these paths.
      }).filter((problem) => problem.keyPath === undefined || !section.problemPaths.has(problem.keyPath));
  return { problems: [...section.problems, ...zodProblems] };
}

function validateFile(
  file: ParsedFile,
  resolutions: ReadonlyMap<string, SecretResolution>,
): { candidates: Candidate[]; problems: ConfigProblem[] } {
  const definition = file.file.definition;
  const problems: ConfigProblem[] = [];
  const initSchema = buildInitConfigSchema(definition);
  const instanceSchema = buildInstanceSchema(definition);

  const initResolved = resolveSection(file, file.init, resolutions);
  const init = validateSection(
    file,
    file.init,
    initResolved.value,
    initSchema,
    inputJsonSchema(initSchema),
    initResolved.secretPaths,
    `${definition.name} init_config options`,
  );
  if (!init.data) {
    const suffix = ` (init_config is shared: no instance of this file was loaded)`;
    return { candidates: [], problems: init.problems.map((problem) => withSuffix(problem, suffix)) };
  }
  const initConfig = init.data;

  const instanceJsonSchema = inputJsonSchema(instanceSchema);
  const candidates: Candidate[] = [];
  for (const section of file.instances) {
    const line = file.source.positionOf(section.basePath)?.line ?? file.source.lineOf(section.basePath) ?? 1;
    const fail = (message: string, hint: string, path: KeyPath = []) =>
      problems.push(
        new ConfigProblem({
          file: file.file.displayPath,
          line: file.source.lineOf([...section.basePath, ...path]) ?? line,
          keyPath: formatKeyPath([...section.basePath, ...path]),
          message,
          hint,
        }),
      );
    const substituted = section.substituted;
    if (substituted === null || typeof substituted !== 'object' || Array.isArray(substituted)) {
      fail(
        `expected a mapping of options, found ${substituted === null ? 'an empty item' : describeFound(substituted)}`,
        'write the instance as `- option: value` with further options indented below it',
      );
      continue;
    }
    const resolved = resolveSection(file, section, resolutions);
    const raw = substituted as Record<string, unknown>;
    if (raw.schedule !== undefined && raw.min_collection_interval !== undefined) {
      section.problems.push(
        new ConfigProblem({
          file: file.file.displayPath,
          line: file.source.lineOf([...section.basePath, 'schedule']) ?? line,
          keyPath: formatKeyPath([...section.basePath, 'schedule']),
          message: 'expected either schedule or min_collection_interval, found both',
          hint: 'keep `schedule` (cron) or `min_collection_interval` (seconds), not both',
        }),
      );
    }
    const checked = validateSection(
      file,
      section,
      resolved.value,
      instanceSchema,
      instanceJsonSchema,
      resolved.secretPaths,
      `${definition.name} instance options`,
    );
    if (!checked.data) {
      problems.push(...checked.problems);
      continue;
    }
    const config = checked.data;
    const reserved = effectiveReservedOptions(config, initConfig);
    const ignoredKeys = ignoredAgentKeys(config, initConfig);
    const instance: LoadedInstance = {
      checkName: definition.name,
      instanceId: instanceId(definition.name, section.written, file.init.written, reserved.name),
      ...(reserved.name !== undefined ? { name: reserved.name } : {}),
      source: { file: file.file.displayPath, line },
      initConfig,
      config,
      reserved,
      secretPaths: [
        ...initResolved.secretPaths.map((path) => formatKeyPath(['initConfig', ...path])),
        ...resolved.secretPaths.map((path) => formatKeyPath(['config', ...path])),
      ],
      definition,
      ...(ignoredKeys.length > 0 ? { ignoredKeys } : {}),
    };
    candidates.push({
      instance,
      keyPath: formatKeyPath(section.basePath),
      nameLine: file.source.positionOf([...section.basePath, 'name'])?.line,
    });
  }
  return { candidates, problems };
}

/** Keeps the first of instances with the same check and resolved config, or the same name in a check. */
function rejectDuplicates(candidates: readonly Candidate[], problems: ConfigProblem[]): LoadedInstance[] {
  const byConfig = new Map<string, LoadedInstance>();
  const byName = new Map<string, LoadedInstance>();
  const kept: LoadedInstance[] = [];
  for (const { instance, keyPath, nameLine } of candidates) {
    // Hashed, so resolved secrets are never kept in a printable key.
    const configKey = createHash('sha256')
      .update(
        `${instance.checkName}\n${canonicalJson(instance.config)}\n${canonicalJson(instance.initConfig)}`,
      )
      .digest('hex');
    const nameKey = instance.name !== undefined ? `${instance.checkName}\n${instance.name}` : undefined;
    const sameConfig = byConfig.get(configKey);
    const sameName = nameKey !== undefined ? byName.get(nameKey) : undefined;
    const first = sameConfig ?? sameName;
    if (first) {
      const what = sameConfig ? 'the same configuration' : `the same name '${instance.name ?? ''}'`;
      problems.push(
        new ConfigProblem({
          file: instance.source.file,
          line: sameConfig ? instance.source.line : (nameLine ?? instance.source.line),
          keyPath: sameConfig ? keyPath : `${keyPath}.name`,
          message: `duplicate ${instance.checkName} instance: expected each instance once, found ${what} as the instance at ${first.source.file}:${first.source.line}`,
          hint: sameConfig
            ? 'remove one of the two instances (this one was not loaded)'
            : 'give each instance of a check its own `name` (this one was not loaded)',
        }),
      );
      continue;
    }
    byConfig.set(configKey, instance);
    if (nameKey !== undefined) byName.set(nameKey, instance);
    kept.push(instance);
  }
  return kept;
}
