import { createHash } from 'node:crypto';
import { isAbsolute, relative } from 'node:path';
import type { z } from 'zod';
import type { CheckDefinition } from '../check/check.js';
import { ConfigProblem, formatKeyPath, type KeyPath } from './config-problem.js';
import { parseFile, withSuffix, type ParsedFile, type Section } from './confd-file.js';
import { discoverConfdFiles } from './confd-discovery.js';
import { NO_BACKEND, replaceSecrets, resolveHandles } from './confd-secrets.js';
import type { Environment } from './env-substitution.js';
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
import type { SecretResolution, SecretResolver } from './secret-resolver.js';
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

/** Shorter resolved secrets are not scrubbed from messages: they would mask ordinary words. */
const MIN_SCRUBBED_SECRET_LENGTH = 4;

/** A valid instance, before duplicates are rejected. */
interface Candidate {
  readonly instance: LoadedInstance;
  /** `instances[2]` and the line of its `name`, for the duplicate problem. */
  readonly keyPath: string;
  readonly nameLine: number | undefined;
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

function resolveAll(
  files: readonly ParsedFile[],
  resolver: SecretResolver | undefined,
): Promise<ReadonlyMap<string, SecretResolution>> {
  const handles = new Set<string>();
  for (const file of files) {
    for (const section of [file.init, ...file.instances])
      for (const secret of section.secrets) handles.add(secret.handle);
  }
  return resolveHandles(handles, resolver);
}

/** Replaces ENC[] values by their secrets in a copy; failures become problems of the section. */
function resolveSection(
  file: ParsedFile,
  section: Section,
  resolutions: ReadonlyMap<string, SecretResolution>,
): { value: unknown; secretPaths: KeyPath[] } {
  return replaceSecrets(section.substituted, section.secrets, resolutions, (secret, error) => {
    const fullPath = [...section.basePath, ...secret.path];
    section.problemPaths.add(formatKeyPath(fullPath));
    section.problems.push(
      new ConfigProblem({
        file: file.file.displayPath,
        line: file.source.lineOf(fullPath),
        keyPath: formatKeyPath(fullPath),
        message: `expected the ENC[] secret to resolve, found it unresolvable: ${error}`,
        hint:
          error === NO_BACKEND
            ? 'set secret_backend_command in dogwatch.yaml (the Agent secret backend protocol), or write the value without ENC[]'
            : 'check the handle name and the secret backend (run it by hand with the same JSON on stdin)',
      }),
    );
  });
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

/** A file's init_config after validation, which every instance of the file shares. */
interface ValidInitConfig {
  readonly config: Record<string, unknown>;
  readonly secretPaths: readonly KeyPath[];
}

/** Validates a file's init_config, then each instance; a bad init_config disables the whole file. */
function validateFile(
  file: ParsedFile,
  resolutions: ReadonlyMap<string, SecretResolution>,
): { candidates: Candidate[]; problems: ConfigProblem[] } {
  const definition = file.file.definition;
  const initSchema = buildInitConfigSchema(definition);
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
  const initConfig: ValidInitConfig = { config: init.data, secretPaths: initResolved.secretPaths };

  const instanceSchema = buildInstanceSchema(definition);
  const instanceJsonSchema = inputJsonSchema(instanceSchema);
  const candidates: Candidate[] = [];
  const problems: ConfigProblem[] = [];
  for (const section of file.instances) {
    const checked = validateInstance(file, section, resolutions, instanceSchema, instanceJsonSchema);
    if (!checked.data) {
      problems.push(...checked.problems);
      continue;
    }
    candidates.push(candidateOf(file, section, initConfig, checked.data, checked.secretPaths));
  }
  return { candidates, problems };
}

/** One instance: a mapping, not both schedule and min_collection_interval, and valid for the check. */
function validateInstance(
  file: ParsedFile,
  section: Section,
  resolutions: ReadonlyMap<string, SecretResolution>,
  schema: z.ZodObject,
  jsonSchema: JsonSchema,
): { data?: Record<string, unknown>; secretPaths: readonly KeyPath[]; problems: ConfigProblem[] } {
  const line = instanceLine(file, section);
  const problemAt = (path: KeyPath, message: string, hint: string) =>
    new ConfigProblem({
      file: file.file.displayPath,
      line: file.source.lineOf([...section.basePath, ...path]) ?? line,
      keyPath: formatKeyPath([...section.basePath, ...path]),
      message,
      hint,
    });
  const substituted = section.substituted;
  if (substituted === null || typeof substituted !== 'object' || Array.isArray(substituted)) {
    const problem = problemAt(
      [],
      `expected a mapping of options, found ${substituted === null ? 'an empty item' : describeFound(substituted)}`,
      'write the instance as `- option: value` with further options indented below it',
    );
    return { secretPaths: [], problems: [problem] };
  }
  const resolved = resolveSection(file, section, resolutions);
  const raw = substituted as Record<string, unknown>;
  if (raw.schedule !== undefined && raw.min_collection_interval !== undefined) {
    section.problems.push(
      problemAt(
        ['schedule'],
        'expected either schedule or min_collection_interval, found both',
        'keep `schedule` (cron) or `min_collection_interval` (seconds), not both',
      ),
    );
  }
  const checked = validateSection(
    file,
    section,
    resolved.value,
    schema,
    jsonSchema,
    resolved.secretPaths,
    `${file.file.definition.name} instance options`,
  );
  return { ...checked, secretPaths: resolved.secretPaths };
}

/** The line an instance is reported at: its list item, else the nearest line that exists. */
function instanceLine(file: ParsedFile, section: Section): number {
  return file.source.positionOf(section.basePath)?.line ?? file.source.lineOf(section.basePath) ?? 1;
}

/** A valid instance as the runtime sees it, with where it was written for the duplicate check. */
function candidateOf(
  file: ParsedFile,
  section: Section,
  init: ValidInitConfig,
  config: Record<string, unknown>,
  secretPaths: readonly KeyPath[],
): Candidate {
  const definition = file.file.definition;
  const reserved = effectiveReservedOptions(config, init.config);
  const ignoredKeys = ignoredAgentKeys(config, init.config);
  const instance: LoadedInstance = {
    checkName: definition.name,
    instanceId: instanceId(definition.name, section.written, file.init.written, reserved.name),
    ...(reserved.name !== undefined ? { name: reserved.name } : {}),
    source: { file: file.file.displayPath, line: instanceLine(file, section) },
    initConfig: init.config,
    config,
    reserved,
    secretPaths: [
      ...init.secretPaths.map((path) => formatKeyPath(['initConfig', ...path])),
      ...secretPaths.map((path) => formatKeyPath(['config', ...path])),
    ],
    definition,
    ...(ignoredKeys.length > 0 ? { ignoredKeys } : {}),
  };
  return {
    instance,
    keyPath: formatKeyPath(section.basePath),
    nameLine: file.source.positionOf([...section.basePath, 'name'])?.line,
  };
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
