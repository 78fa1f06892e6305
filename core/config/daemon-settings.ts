import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { LogFormat, LogLevel } from '../log/logger.js';
import { ConfigError, ConfigProblem } from './config-problem.js';
import {
  DEFAULT_DOGSTATSD_HOST,
  DEFAULT_DOGSTATSD_PORT,
  DOGSTATSD_URL_EXPECTED,
  parseDogStatsDUrl,
  type DogStatsDTarget,
} from './dogstatsd-address.js';
import type { Environment } from './env-substitution.js';
import { LISTEN_ADDRESS_EXPECTED, parseListenAddress, type ListenAddress } from './listen-address.js';
import { inputJsonSchema } from './schema-description.js';
import {
  DEFAULT_SECRET_BACKEND_TIMEOUT_SECONDS,
  readSecretBackendSettings,
  secretBackendFileShape,
  type SecretBackendSettings,
} from './secret-backend-settings.js';
import { DEFAULT_STATUS_ADDR } from './status-address.js';
import { MAX_TIMER_SECONDS } from './reserved-keys.js';
import { parseYamlSource } from './yaml-source.js';
import { issuesToProblems } from './zod-problems.js';

/** Command-line flags that override settings (commander's camelCase option names). */
export interface DaemonFlags {
  readonly config?: string;
  readonly confd?: string;
  readonly stateDir?: string;
  readonly statusAddr?: string;
  readonly logLevel?: string;
  readonly logFormat?: string;
}

export type DogStatsDSettings = DogStatsDTarget & {
  /** Largest datagram the sink may send: 1432 over UDP (one network MTU), 8192 over UDS. */
  readonly maxDatagramBytes: number;
};

/** The daemon's own settings; every field resolved by precedence flags > env > dogwatch.yaml > default. */
export interface DaemonSettings {
  /** The dogwatch.yaml that was read, if any. */
  readonly configFile: string | undefined;
  readonly dogstatsd: DogStatsDSettings;
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

export const DAEMON_DEFAULTS = {
  configFile: 'dogwatch.yaml',
  dogstatsdUrl: `udp://${DEFAULT_DOGSTATSD_HOST}:${DEFAULT_DOGSTATSD_PORT}`,
  maxDatagramBytesUdp: 1432,
  maxDatagramBytesUds: 8192,
  confdPath: 'conf.d',
  stateDir: '.state',
  logLevel: 'info',
  statusAddr: DEFAULT_STATUS_ADDR,
  secretBackendTimeoutSeconds: DEFAULT_SECRET_BACKEND_TIMEOUT_SECONDS,
  runTimeoutSeconds: 120,
  shutdownDeadlineSeconds: 20,
} as const;

/** A setting written as text (environment, flags), with how to read it and what a user must write. */
interface TextSetting<T> {
  readonly parse: (text: string) => T | undefined;
  readonly expected: string;
}

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
const LOG_FORMATS = ['text', 'json'] as const;
const MIN_DATAGRAM = 512;
const MAX_DATAGRAM = 8192;

const oneOf = <T extends string>(values: readonly T[]): TextSetting<T> => ({
  parse: (text) => values.find((value) => value === text.trim().toLowerCase()),
  expected: `one of ${values.join(', ')}`,
});
const positiveSeconds: TextSetting<number> = {
  parse: (text) =>
    /^\d+(\.\d+)?$/.test(text.trim()) && Number(text) > 0 && Number(text) <= MAX_TIMER_SECONDS
      ? Number(text)
      : undefined,
  expected: `a number of seconds > 0 and ≤ ${MAX_TIMER_SECONDS}`,
};
const datagramBytes: TextSetting<number> = {
  parse: (text) => {
    const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    return value >= MIN_DATAGRAM && value <= MAX_DATAGRAM ? value : undefined;
  },
  expected: `an integer from ${MIN_DATAGRAM} to ${MAX_DATAGRAM} (bytes)`,
};
const nonEmptyText: TextSetting<string> = {
  parse: (text) => (text.trim() !== '' ? text.trim() : undefined),
  expected: 'a non-empty path',
};
const listenAddress: TextSetting<ListenAddress | 'off'> = {
  parse: parseListenAddress,
  expected: LISTEN_ADDRESS_EXPECTED,
};
const dogstatsdUrl: TextSetting<DogStatsDTarget> = {
  parse: parseDogStatsDUrl,
  expected: DOGSTATSD_URL_EXPECTED,
};
const udpPort: TextSetting<number> = {
  parse: (text) => {
    const value = /^\d{1,5}$/.test(text.trim()) ? Number(text) : NaN;
    return value >= 1 && value <= 65535 ? value : undefined;
  },
  expected: 'a port number from 1 to 65535',
};
const hostName: TextSetting<string> = { parse: nonEmptyText.parse, expected: 'a host name or IP address' };

/** A zod string that must read as the setting, so file values get the same check and wording. */
function textSchema<T>(setting: TextSetting<T>) {
  return z.string().superRefine((text, context) => {
    if (setting.parse(text) === undefined) {
      context.addIssue({
        code: 'custom',
        message: `expected ${setting.expected}, found ${JSON.stringify(text)}`,
      });
    }
  });
}

/** dogwatch.yaml. Relative paths in it resolve against the file's own folder. */
export const daemonFileSchema = z.strictObject({
  dogstatsd_url: textSchema(dogstatsdUrl)
    .optional()
    .describe(`Where to send DogStatsD datagrams: ${DOGSTATSD_URL_EXPECTED}. Env: DD_DOGSTATSD_URL.`),
  max_datagram_bytes: z
    .number()
    .int()
    .min(MIN_DATAGRAM)
    .max(MAX_DATAGRAM)
    .optional()
    .describe(
      'Largest datagram to send (1432 for UDP, 8192 for UDS by default). Env: DOGWATCH_MAX_DATAGRAM_BYTES.',
    ),
  tags: z.array(z.string().min(1)).optional().describe('Tags added to everything sent. Env: DD_TAGS.'),
  confd_path: z.string().min(1).optional().describe('The conf.d folder. Env: DOGWATCH_CONFD; flag --confd.'),
  state_dir: z
    .string()
    .min(1)
    .optional()
    .describe('Where progress is kept. Env: DOGWATCH_STATE_DIR; flag --state-dir.'),
  log_level: z.enum(LOG_LEVELS).optional().describe('Env: DOGWATCH_LOG_LEVEL.'),
  log_format: z.enum(LOG_FORMATS).optional().describe('Env: DOGWATCH_LOG_FORMAT.'),
  status_addr: textSchema(listenAddress)
    .optional()
    .describe(`Status listener: ${LISTEN_ADDRESS_EXPECTED}. Env: DOGWATCH_STATUS_ADDR; flag --status-addr.`),
  ...secretBackendFileShape,
  run_timeout: z
    .number()
    .positive()
    .max(MAX_TIMER_SECONDS)
    .optional()
    .describe('Seconds a check run may take; default 120.'),
  shutdown_deadline: z
    .number()
    .positive()
    .max(MAX_TIMER_SECONDS)
    .optional()
    .describe('Seconds to finish runs on shutdown; default 20.'),
});

type DaemonFile = z.infer<typeof daemonFileSchema>;

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
  const env = options.env;
  const cwd = options.cwd ?? process.cwd();
  const readFile = options.readFile ?? readFromDisk;
  const problems: ConfigProblem[] = [];

  const explicitPath = nonEmpty(flags.config) ?? nonEmpty(env.DOGWATCH_CONFIG);
  const configPath = resolve(cwd, explicitPath ?? DAEMON_DEFAULTS.configFile);
  let text: string | undefined;
  try {
    text = readFile(configPath);
  } catch (error) {
    problems.push(
      new ConfigProblem({
        file: configPath,
        message: `cannot read the settings file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
        hint: 'check its permissions',
      }),
    );
  }
  if (text === undefined && explicitPath !== undefined && problems.length === 0) {
    problems.push(
      new ConfigProblem({
        file: configPath,
        keyPath: flags.config !== undefined ? '--config' : 'DOGWATCH_CONFIG',
        message: 'expected a settings file here, found none',
        hint: 'fix the path, or leave --config / DOGWATCH_CONFIG unset to run on defaults',
      }),
    );
  }
  const file = text !== undefined ? readSettingsFile(configPath, text, problems) : {};
  const fileDir = dirname(configPath);

  const fromEnv = <T>(name: string, setting: TextSetting<T>): T | undefined => {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) return undefined;
    const value = setting.parse(raw);
    if (value === undefined) {
      problems.push(
        new ConfigProblem({
          file: 'environment',
          keyPath: name,
          message: `expected ${setting.expected}, found ${JSON.stringify(raw)}`,
          hint: `fix or unset ${name}`,
        }),
      );
    }
    return value;
  };
  const fromFlag = <T>(flag: keyof DaemonFlags, option: string, setting: TextSetting<T>): T | undefined => {
    const raw = flags[flag];
    if (raw === undefined) return undefined;
    const value = setting.parse(raw);
    if (value === undefined) {
      problems.push(
        new ConfigProblem({
          file: 'command line',
          keyPath: option,
          message: `expected ${setting.expected}, found ${JSON.stringify(raw)}`,
          hint: `fix the value of ${option}`,
        }),
      );
    }
    return value;
  };
  const fileText = <T>(value: string | undefined, setting: TextSetting<T>): T | undefined =>
    value !== undefined ? setting.parse(value) : undefined;
  const filePath = (value: string | undefined) => (value !== undefined ? resolve(fileDir, value) : undefined);
  const cwdPath = (value: string | undefined) => (value !== undefined ? resolve(cwd, value) : undefined);

  // DogStatsD: DD_DOGSTATSD_URL, then DD_AGENT_HOST / DD_DOGSTATSD_PORT, then the file.
  const envUrl = fromEnv('DD_DOGSTATSD_URL', dogstatsdUrl);
  const agentHost = fromEnv('DD_AGENT_HOST', hostName);
  const agentPort = fromEnv('DD_DOGSTATSD_PORT', udpPort);
  const target: DogStatsDTarget =
    envUrl ??
    (agentHost !== undefined || agentPort !== undefined
      ? {
          transport: 'udp',
          host: agentHost ?? DEFAULT_DOGSTATSD_HOST,
          port: agentPort ?? DEFAULT_DOGSTATSD_PORT,
        }
      : (fileText(file.dogstatsd_url, dogstatsdUrl) ?? {
          transport: 'udp',
          host: DEFAULT_DOGSTATSD_HOST,
          port: DEFAULT_DOGSTATSD_PORT,
        }));
  const maxDatagramBytes =
    fromEnv('DOGWATCH_MAX_DATAGRAM_BYTES', datagramBytes) ??
    file.max_datagram_bytes ??
    (target.transport === 'uds' ? DAEMON_DEFAULTS.maxDatagramBytesUds : DAEMON_DEFAULTS.maxDatagramBytesUdp);

  const status =
    fromFlag('statusAddr', '--status-addr', listenAddress) ??
    fromEnv('DOGWATCH_STATUS_ADDR', listenAddress) ??
    fileText(file.status_addr, listenAddress) ??
    parseListenAddress(DAEMON_DEFAULTS.statusAddr);

  const secretBackend = readSecretBackendSettings({ env, file, cwd, fileDir, problems });

  const settings: DaemonSettings = {
    configFile: text !== undefined ? configPath : undefined,
    dogstatsd: { ...target, maxDatagramBytes },
    tags: globalTags(env, file),
    confdPath:
      cwdPath(fromFlag('confd', '--confd', nonEmptyText) ?? fromEnv('DOGWATCH_CONFD', nonEmptyText)) ??
      filePath(file.confd_path) ??
      resolve(cwd, DAEMON_DEFAULTS.confdPath),
    stateDir:
      cwdPath(
        fromFlag('stateDir', '--state-dir', nonEmptyText) ?? fromEnv('DOGWATCH_STATE_DIR', nonEmptyText),
      ) ??
      filePath(file.state_dir) ??
      resolve(cwd, DAEMON_DEFAULTS.stateDir),
    logLevel:
      fromFlag('logLevel', '--log-level', oneOf(LOG_LEVELS)) ??
      fromEnv('DOGWATCH_LOG_LEVEL', oneOf(LOG_LEVELS)) ??
      file.log_level ??
      DAEMON_DEFAULTS.logLevel,
    logFormat:
      fromFlag('logFormat', '--log-format', oneOf(LOG_FORMATS)) ??
      fromEnv('DOGWATCH_LOG_FORMAT', oneOf(LOG_FORMATS)) ??
      file.log_format ??
      ((options.stderrIsTty ?? process.stderr.isTTY === true) ? 'text' : 'json'),
    statusAddress: status === 'off' ? undefined : status,
    secretBackend,
    runTimeoutSeconds:
      fromEnv('DOGWATCH_RUN_TIMEOUT', positiveSeconds) ??
      file.run_timeout ??
      DAEMON_DEFAULTS.runTimeoutSeconds,
    shutdownDeadlineSeconds:
      fromEnv('DOGWATCH_SHUTDOWN_DEADLINE', positiveSeconds) ??
      file.shutdown_deadline ??
      DAEMON_DEFAULTS.shutdownDeadlineSeconds,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

function readSettingsFile(path: string, text: string, problems: ConfigProblem[]): DaemonFile {
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

/** `tags` or DD_TAGS (space or comma separated; env wins), then env:, service:, version: from DD_*. */
function globalTags(env: Environment, file: DaemonFile): string[] {
  const ddTags = env.DD_TAGS;
  const base =
    ddTags !== undefined
      ? ddTags.split(/[\s,]+/).filter((tag) => tag !== '')
      : [...(file.tags ?? [])].map((tag) => tag.trim()).filter((tag) => tag !== '');
  const unified = (['env', 'service', 'version'] as const)
    .map((key) => [key, nonEmpty(env[`DD_${key.toUpperCase()}`])?.trim()] as const)
    .filter((entry): entry is readonly ['env' | 'service' | 'version', string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}:${value}`);
  return [...new Set([...base, ...unified])];
}
