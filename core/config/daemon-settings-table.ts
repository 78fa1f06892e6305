/**
 * Every daemon setting, declared once: its dogwatch.yaml key, environment variables (the Datadog
 * Agent's names where the Agent has one), flag, default, schema and one line of help. The order is the
 * order of dogwatch.yaml's options in problems, `--help` and the README.
 */
import { isAbsolute, resolve } from 'node:path';
import type { LogFormat, LogLevel } from '../log/logger.js';
import {
  fromEnv,
  setting,
  textSchema,
  type DaemonSetting,
  type EnvReader,
  type SettingFlag,
} from './daemon-setting.js';
import { DEFAULT_DOGSTATSD_HOST, DEFAULT_DOGSTATSD_PORT, type DogStatsDTarget } from './dogstatsd-address.js';
import type { ListenAddress } from './listen-address.js';
import { DEFAULT_LOGS_HOST, DEFAULT_LOGS_PORT, type LogsTarget } from './logs-address.js';
import { DEFAULT_SECRET_BACKEND_TIMEOUT_SECONDS } from './secret-backend-settings.js';
import { DEFAULT_STATUS_ADDR } from './status-address.js';
import {
  boolean,
  datagramBytes,
  dogstatsdUrl,
  hostName,
  listenAddress,
  logsUrl,
  MAX_DATAGRAM_BYTES,
  MIN_DATAGRAM_BYTES,
  nonEmptyPath,
  oneOf,
  positiveSeconds,
  spaceSeparated,
  udpPort,
} from './text-formats.js';
import { MAX_TIMER_SECONDS } from './timer-limit.js';

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const satisfies readonly LogLevel[];
const LOG_FORMATS = ['text', 'json'] as const satisfies readonly LogFormat[];

/** The largest datagram by transport when max_datagram_bytes is not set: one network MTU over UDP. */
export const DEFAULT_DATAGRAM_BYTES: Readonly<Record<DogStatsDTarget['transport'], number>> = {
  udp: 1432,
  uds: 8192,
};

/** Where dogwatch.yaml is. Not a key of the file itself, so it has only a flag, a variable and a default. */
export const CONFIG_FILE_SETTING = {
  help: 'the daemon settings file',
  flag: { name: 'config', short: '-c', argument: '<path>' } satisfies SettingFlag,
  env: 'DOGWATCH_CONFIG',
  default: 'dogwatch.yaml',
  defaultDocs: '`./dogwatch.yaml` if present',
} as const;

const DEFAULT_DOGSTATSD: DogStatsDTarget = {
  transport: 'udp',
  host: DEFAULT_DOGSTATSD_HOST,
  port: DEFAULT_DOGSTATSD_PORT,
};

/** The Agent's variables: DD_DOGSTATSD_URL, else DD_AGENT_HOST and DD_DOGSTATSD_PORT (UDP). */
function agentDogStatsD(reader: EnvReader): DogStatsDTarget | undefined {
  const url = reader.read(['DD_DOGSTATSD_URL'], dogstatsdUrl);
  const host = reader.read(['DD_AGENT_HOST'], hostName);
  const port = reader.read(['DD_DOGSTATSD_PORT'], udpPort);
  if (url !== undefined) return url;
  if (host === undefined && port === undefined) return undefined;
  return { transport: 'udp', host: host ?? DEFAULT_DOGSTATSD_HOST, port: port ?? DEFAULT_DOGSTATSD_PORT };
}

/** A path relative to where it was written: the file's folder, or the working folder for flags and env. */
const relativePath = (path: string, dir: string): string => resolve(dir, path);

/** The secret backend command: a path with a slash is relative to where it was written; a bare name uses PATH. */
const commandPath = (command: string, dir: string): string =>
  /[\\/]/.test(command) && !isAbsolute(command) ? resolve(dir, command) : command;

/**
 * dogwatch's own DOGWATCH_SECRET_BACKEND_<NAME> wins over the Agent's DD_SECRET_BACKEND_<NAME>, which is
 * read so that a container sharing the Agent's environment needs nothing more.
 */
const secretBackendEnv = (name: string): string[] => [
  `DOGWATCH_SECRET_BACKEND_${name}`,
  `DD_SECRET_BACKEND_${name}`,
];

const seconds = (help: string, env: readonly string[], defaultSeconds: number) =>
  setting({
    help,
    schema: (zod) => zod.number().positive().max(MAX_TIMER_SECONDS),
    env: fromEnv(env, positiveSeconds),
    default: () => defaultSeconds,
    defaultDocs: `${defaultSeconds} s`,
  });

export const DAEMON_SETTINGS = {
  dogstatsd_url: setting<string, DogStatsDTarget>({
    help: 'where to send DogStatsD datagrams: `udp://host:port` or `unix:///path/to/dsd.socket`',
    schema: (zod) => textSchema(zod, dogstatsdUrl),
    fromFile: dogstatsdUrl.parse,
    env: {
      names: ['DD_DOGSTATSD_URL', 'DD_AGENT_HOST', 'DD_DOGSTATSD_PORT'],
      read: agentDogStatsD,
      docs: '`DD_DOGSTATSD_URL`, else `DD_AGENT_HOST` + `DD_DOGSTATSD_PORT`',
    },
    default: () => DEFAULT_DOGSTATSD,
    defaultDocs: `\`udp://${DEFAULT_DOGSTATSD_HOST}:${DEFAULT_DOGSTATSD_PORT}\``,
  }),
  max_datagram_bytes: setting<number | undefined>({
    help: `largest datagram to send, in bytes (${MIN_DATAGRAM_BYTES} to ${MAX_DATAGRAM_BYTES})`,
    schema: (zod) => zod.number().int().min(MIN_DATAGRAM_BYTES).max(MAX_DATAGRAM_BYTES),
    env: fromEnv(['DOGWATCH_MAX_DATAGRAM_BYTES'], datagramBytes),
    // By transport (DEFAULT_DATAGRAM_BYTES), once the transport is known.
    default: () => undefined,
    defaultDocs: `${DEFAULT_DATAGRAM_BYTES.udp} over UDP, ${DEFAULT_DATAGRAM_BYTES.uds} over UDS`,
  }),
  logs_url: setting<string, LogsTarget>({
    help: "where to send log lines (`collect_logs`): the Agent's TCP logs listener, `tcp://host:port`",
    schema: (zod) => textSchema(zod, logsUrl),
    fromFile: logsUrl.parse,
    env: fromEnv(['DOGWATCH_LOGS_URL'], logsUrl),
    default: () => ({ host: DEFAULT_LOGS_HOST, port: DEFAULT_LOGS_PORT }),
    defaultDocs: `\`tcp://${DEFAULT_LOGS_HOST}:${DEFAULT_LOGS_PORT}\``,
  }),
  tags: setting<string[], readonly string[]>({
    help: 'tags added to everything sent',
    schema: (zod) => zod.array(zod.string().min(1)),
    fromFile: (tags) => tags.map((tag) => tag.trim()).filter((tag) => tag !== ''),
    env: {
      names: ['DD_TAGS', 'DD_ENV', 'DD_SERVICE', 'DD_VERSION'],
      // Set at all (even blank), DD_TAGS replaces the file's tags; DD_ENV & co. are added to either.
      read: ({ env }) => env.DD_TAGS?.split(/[\s,]+/).filter((tag) => tag !== ''),
      docs: '`DD_TAGS` (space or comma separated), plus `DD_ENV` / `DD_SERVICE` / `DD_VERSION` → `env:` `service:` `version:`',
    },
    default: () => [],
    defaultDocs: 'none',
  }),
  confd_path: setting({
    help: 'the conf.d folder',
    schema: (zod) => zod.string().min(1),
    env: fromEnv(['DOGWATCH_CONFD'], nonEmptyPath),
    flag: { name: 'confd', argument: '<dir>', format: nonEmptyPath },
    place: relativePath,
    default: () => 'conf.d',
    defaultDocs: '`./conf.d`',
  }),
  state_dir: setting({
    help: 'where progress (watermarks and the journal) is kept',
    schema: (zod) => zod.string().min(1),
    env: fromEnv(['DOGWATCH_STATE_DIR'], nonEmptyPath),
    flag: { name: 'stateDir', argument: '<dir>', format: nonEmptyPath },
    place: relativePath,
    default: () => '.state',
    defaultDocs: '`./.state`',
  }),
  log_level: setting<LogLevel>({
    help: 'the least severe log lines written',
    schema: (zod) => zod.enum(LOG_LEVELS),
    env: fromEnv(['DOGWATCH_LOG_LEVEL'], oneOf(LOG_LEVELS)),
    flag: { name: 'logLevel', argument: '<level>', choices: LOG_LEVELS, format: oneOf(LOG_LEVELS) },
    default: () => 'info',
    defaultDocs: '`info`',
  }),
  log_format: setting<LogFormat>({
    help: 'how log lines are written',
    schema: (zod) => zod.enum(LOG_FORMATS),
    env: fromEnv(['DOGWATCH_LOG_FORMAT'], oneOf(LOG_FORMATS)),
    flag: { name: 'logFormat', argument: '<format>', choices: LOG_FORMATS, format: oneOf(LOG_FORMATS) },
    default: ({ stderrIsTty }) => (stderrIsTty ? 'text' : 'json'),
    defaultDocs: '`text` on a terminal, `json` otherwise',
  }),
  status_addr: setting<string, ListenAddress | 'off' | undefined>({
    help: 'the status listener: `host:port`, or `off`',
    schema: (zod) => textSchema(zod, listenAddress),
    fromFile: listenAddress.parse,
    env: fromEnv(['DOGWATCH_STATUS_ADDR'], listenAddress),
    flag: { name: 'statusAddr', argument: '<host:port>', format: listenAddress },
    default: () => listenAddress.parse(DEFAULT_STATUS_ADDR),
    defaultDocs: `\`${DEFAULT_STATUS_ADDR}\` — loopback; all interfaces only if you write \`0.0.0.0\``,
  }),
  secret_backend_command: setting<string, string | undefined>({
    help: 'the executable that resolves `ENC[]` values (the Agent secret backend protocol)',
    schema: (zod) => zod.string().min(1),
    fromFile: (command) => command,
    env: fromEnv(secretBackendEnv('COMMAND'), nonEmptyPath),
    place: commandPath,
    default: () => undefined,
    defaultDocs: 'none',
  }),
  secret_backend_arguments: setting<string[], readonly string[]>({
    help: 'arguments for `secret_backend_command` (separated by spaces in the environment)',
    schema: (zod) => zod.array(zod.string()),
    fromFile: (args) => args,
    env: fromEnv(secretBackendEnv('ARGUMENTS'), spaceSeparated),
    default: () => [],
    defaultDocs: 'none',
  }),
  secret_backend_timeout: seconds(
    'seconds the secret backend may take',
    secretBackendEnv('TIMEOUT'),
    DEFAULT_SECRET_BACKEND_TIMEOUT_SECONDS,
  ),
  secret_backend_command_allow_group_exec_perm: setting<boolean>({
    help: 'let the group read and run the secret backend (mode 750); otherwise mode 700, as the Agent',
    schema: (zod) => zod.boolean(),
    env: fromEnv(secretBackendEnv('COMMAND_ALLOW_GROUP_EXEC_PERM'), boolean),
    default: () => false,
    defaultDocs: '`false`',
  }),
  run_timeout: seconds('seconds a check run may take before it is aborted', ['DOGWATCH_RUN_TIMEOUT'], 120),
  shutdown_deadline: seconds(
    'seconds in-flight runs get to finish on SIGTERM before the daemon exits',
    ['DOGWATCH_SHUTDOWN_DEADLINE'],
    20,
  ),
} as const;

export type DaemonSettingKey = keyof typeof DAEMON_SETTINGS;
export type SettingWritten<K extends DaemonSettingKey> =
  (typeof DAEMON_SETTINGS)[K] extends DaemonSetting<infer Written, infer _Value> ? Written : never;
export type SettingValue<K extends DaemonSettingKey> =
  (typeof DAEMON_SETTINGS)[K] extends DaemonSetting<infer _Written, infer Value> ? Value : never;

/** dogwatch.yaml after validation. */
export type DaemonFile = { readonly [K in DaemonSettingKey]?: SettingWritten<K> };

export const DAEMON_SETTING_KEYS = Object.keys(DAEMON_SETTINGS) as DaemonSettingKey[];
