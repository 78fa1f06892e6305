import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { LogFormat, LogLevel } from '../log/logger.js';
import { ConfigError, ConfigProblem } from './config-problem.js';
import { flagOption, type DaemonFlags } from './daemon-setting.js';
import { fileOptionDescription } from './daemon-settings-docs.js';
import {
  CONFIG_FILE_SETTING,
  DAEMON_SETTING_KEYS,
  DAEMON_SETTINGS,
  DEFAULT_DATAGRAM_BYTES,
  type DaemonFile,
} from './daemon-settings-table.js';
import type { DogStatsDTarget } from './dogstatsd-address.js';
import type { Environment } from './env-substitution.js';
import type { ListenAddress } from './listen-address.js';
import type { LogsTarget } from './logs-address.js';
import { inputJsonSchema } from './schema-description.js';
import type { SecretBackendSettings } from './secret-backend-settings.js';
import { SettingSources } from './setting-sources.js';
import { parseYamlSource } from './yaml-source.js';
import { issuesToProblems } from './zod-problems.js';

export type { DaemonFlags } from './daemon-setting.js';

export type DogStatsDSettings = DogStatsDTarget & {
  /** Largest datagram the sink may send (max_datagram_bytes, else DEFAULT_DATAGRAM_BYTES by transport). */
  readonly maxDatagramBytes: number;
};

/** The daemon's own settings; every field resolved by precedence flags > env > dogwatch.yaml > default. */
export interface DaemonSettings {
  /** The dogwatch.yaml that was read, if any. */
  readonly configFile: string | undefined;
  readonly dogstatsd: DogStatsDSettings;
  /** The Agent's TCP logs listener (`logs_url`), for the instances that collect logs. */
  readonly logs: LogsTarget;
  /** Global tags for everything sent: `tags` / DD_TAGS, plus env:, service:, version: from DD_ENV etc. */
  readonly tags: readonly string[];
  /** Absolute. */
  readonly confdPath: string;
  /** Absolute. */
  readonly stateDir: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Undefined when the status listener is off. */
  readonly statusAddress: ListenAddress | undefined;
  readonly secretBackend: SecretBackendSettings | undefined;
  /** A check run is aborted after this many seconds. */
  readonly runTimeoutSeconds: number;
  /** On SIGTERM, in-flight runs get this long to finish before the daemon exits anyway. */
  readonly shutdownDeadlineSeconds: number;
}

export interface LoadDaemonSettingsOptions {
  readonly flags?: DaemonFlags;
  readonly env: Environment;
  /** Returns the file's text, or undefined when it does not exist. Default: the file system. */
  readonly readFile?: (path: string) => string | undefined;
  /** Relative paths from flags and env resolve against this. Default: process.cwd(). */
  readonly cwd?: string;
  /** Picks the default log format (text on a terminal, json otherwise). Default: process.stderr.isTTY. */
  readonly stderrIsTty?: boolean;
}

/** dogwatch.yaml, derived from DAEMON_SETTINGS. Relative paths in it resolve against the file's own folder. */
export const daemonFileSchema: z.ZodType<DaemonFile> = z.strictObject(
  Object.fromEntries(
    DAEMON_SETTING_KEYS.map((key) => [
      key,
      DAEMON_SETTINGS[key].schema(z).optional().describe(fileOptionDescription(key)),
    ]),
  ),
);

function readFromDisk(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

/**
 * Reads dogwatch.yaml (from --config, else DOGWATCH_CONFIG, else ./dogwatch.yaml when it exists)
 * and applies environment and flags over it. Throws ConfigError listing every problem found.
 */
export function loadDaemonSettings(options: LoadDaemonSettingsOptions): DaemonSettings {
  const flags = options.flags ?? {};
  const cwd = options.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const settingsFile = readSettingsFile(flags, options, cwd, problems);
  const sources = new SettingSources({
    flags,
    env: options.env,
    file: settingsFile.file,
    cwd,
    fileDir: dirname(settingsFile.path),
    defaults: { stderrIsTty: options.stderrIsTty ?? process.stderr.isTTY === true },
    problems,
  });
  // The order of the calls is the order of the problems.
  const target = sources.valueOf('dogstatsd_url');
  const maxDatagramBytes = sources.valueOf('max_datagram_bytes') ?? DEFAULT_DATAGRAM_BYTES[target.transport];
  const logs = sources.valueOf('logs_url');
  const status = sources.valueOf('status_addr');
  const secretBackend = secretBackendOf(sources);
  const settings: DaemonSettings = {
    configFile: settingsFile.found ? settingsFile.path : undefined,
    dogstatsd: { ...target, maxDatagramBytes },
    logs,
    tags: withUnifiedServiceTags(sources.valueOf('tags'), options.env),
    confdPath: sources.valueOf('confd_path'),
    stateDir: sources.valueOf('state_dir'),
    logLevel: sources.valueOf('log_level'),
    logFormat: sources.valueOf('log_format'),
    statusAddress: status === 'off' ? undefined : status,
    secretBackend,
    runTimeoutSeconds: sources.valueOf('run_timeout'),
    shutdownDeadlineSeconds: sources.valueOf('shutdown_deadline'),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

/** The secret backend, or undefined when no command is set (its other settings are then not read). */
function secretBackendOf(sources: SettingSources): SecretBackendSettings | undefined {
  const command = sources.valueOf('secret_backend_command');
  if (command === undefined) return undefined;
  return {
    command,
    arguments: sources.valueOf('secret_backend_arguments'),
    timeoutSeconds: sources.valueOf('secret_backend_timeout'),
    allowGroupExec: sources.valueOf('secret_backend_command_allow_group_exec_perm'),
  };
}

/** dogwatch.yaml as found: an explicit path (--config, DOGWATCH_CONFIG) must exist; the default may not. */
function readSettingsFile(
  flags: DaemonFlags,
  options: LoadDaemonSettingsOptions,
  cwd: string,
  problems: ConfigProblem[],
): { readonly path: string; readonly found: boolean; readonly file: DaemonFile } {
  const flag = CONFIG_FILE_SETTING.flag.name;
  const variable = CONFIG_FILE_SETTING.env;
  const explicitPath = nonEmpty(flags[flag]) ?? nonEmpty(options.env[variable]);
  const path = resolve(cwd, explicitPath ?? CONFIG_FILE_SETTING.default);
  let text: string | undefined;
  try {
    text = (options.readFile ?? readFromDisk)(path);
  } catch (error) {
    problems.push(
      new ConfigProblem({
        file: path,
        message: `cannot read the settings file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
        hint: 'check its permissions',
      }),
    );
  }
  if (text === undefined && explicitPath !== undefined && problems.length === 0) {
    const option = flagOption(CONFIG_FILE_SETTING.flag);
    problems.push(
      new ConfigProblem({
        file: path,
        keyPath: flags[flag] !== undefined ? option : variable,
        message: 'expected a settings file here, found none',
        hint: `fix the path, or leave ${option} / ${variable} unset to run on defaults`,
      }),
    );
  }
  const file = text !== undefined ? validateSettingsFile(path, text, problems) : {};
  return { path, found: text !== undefined, file };
}

function validateSettingsFile(path: string, text: string, problems: ConfigProblem[]): DaemonFile {
  const parsed = parseYamlSource(path, text);
  if (!parsed.ok) {
    problems.push(...parsed.problems);
    return {};
  }
  const value = parsed.source.value ?? {};
  const result = daemonFileSchema.safeParse(value);
  if (result.success) return result.data;
  problems.push(
    ...issuesToProblems(result.error.issues, {
      file: path,
      source: parsed.source,
      basePath: [],
      value,
      jsonSchema: inputJsonSchema(daemonFileSchema),
      isSecret: () => false,
      optionsName: 'dogwatch.yaml settings',
      // A document of the wrong type has no key to point at: name its first line.
    }).map((problem) => (problem.line === undefined ? new ConfigProblem({ ...problem, line: 1 }) : problem)),
  );
  return {};
}

/** Datadog's unified service tagging: env:, service:, version: from DD_ENV, DD_SERVICE, DD_VERSION. */
function withUnifiedServiceTags(tags: readonly string[], env: Environment): string[] {
  const unified = (['env', 'service', 'version'] as const)
    .map((key) => [key, nonEmpty(env[`DD_${key.toUpperCase()}`])?.trim()] as const)
    .filter((entry): entry is readonly ['env' | 'service' | 'version', string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}:${value}`);
  return [...new Set([...tags, ...unified])];
}
