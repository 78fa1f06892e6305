import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigProblem } from './config-problem.js';
import type { Environment } from './env-substitution.js';
import { MAX_TIMER_SECONDS } from './reserved-keys.js';

export interface SecretBackendSettings {
  readonly command: string;
  readonly arguments: readonly string[];
  readonly timeoutSeconds: number;
  /** The Agent's secret_backend_command_allow_group_exec_perm: the group may read and run the file. */
  readonly allowGroupExec: boolean;
}

/** The Agent's default secret_backend_timeout. */
export const DEFAULT_SECRET_BACKEND_TIMEOUT_SECONDS = 30;

/** dogwatch.yaml keys, named as in the Agent's datadog.yaml. */
export const secretBackendFileShape = {
  secret_backend_command: z.string().min(1).optional().describe('Executable resolving ENC[] values.'),
  secret_backend_arguments: z.array(z.string()).optional().describe('Arguments for secret_backend_command.'),
  secret_backend_timeout: z
    .number()
    .positive()
    .max(MAX_TIMER_SECONDS)
    .optional()
    .describe('Seconds; default 30.'),
  secret_backend_command_allow_group_exec_perm: z
    .boolean()
    .optional()
    .describe(
      'Let the group read and run the secret backend (mode 750); default false: mode 700, as the Agent.',
    ),
};

type SecretBackendFile = {
  [K in keyof typeof secretBackendFileShape]?: z.infer<(typeof secretBackendFileShape)[K]>;
};

const nonEmpty = (value: string | undefined): string | undefined =>
  value !== undefined && value.trim() !== '' ? value.trim() : undefined;

/**
 * The environment variable a secret backend setting is read from: dogwatch's own
 * DOGWATCH_SECRET_BACKEND_<NAME> when set, else the Agent's DD_SECRET_BACKEND_<NAME>, so a container
 * that shares the Agent's environment needs nothing more.
 */
function envName(env: Environment, name: string): string {
  const own = `DOGWATCH_SECRET_BACKEND_${name}`;
  return nonEmpty(env[own]) !== undefined ? own : `DD_SECRET_BACKEND_${name}`;
}

/**
 * The secret backend settings (environment over dogwatch.yaml), or undefined when no command is set.
 * A relative command path is relative to where it was written (the working folder for the environment,
 * the file's folder for dogwatch.yaml); a bare name is looked up on PATH when it runs. Malformed values
 * are added to `problems`.
 */
export function readSecretBackendSettings(input: {
  readonly env: Environment;
  readonly file: SecretBackendFile;
  readonly cwd: string;
  readonly fileDir: string;
  readonly problems: ConfigProblem[];
}): SecretBackendSettings | undefined {
  const { env, file } = input;
  const fromEnv = <T>(name: string, parse: (text: string) => T | undefined, expected: string) => {
    const variable = envName(env, name);
    const raw = nonEmpty(env[variable]);
    if (raw === undefined) return undefined;
    const value = parse(raw);
    if (value === undefined) {
      input.problems.push(
        new ConfigProblem({
          file: 'environment',
          keyPath: variable,
          message: `expected ${expected}, found ${JSON.stringify(raw)}`,
          hint: `fix or unset ${variable}`,
        }),
      );
    }
    return value;
  };
  const envCommand = nonEmpty(env[envName(env, 'COMMAND')]);
  const command = envCommand ?? file.secret_backend_command;
  if (command === undefined) return undefined;
  const envArguments = nonEmpty(env[envName(env, 'ARGUMENTS')]);
  return {
    command:
      /[\\/]/.test(command) && !isAbsolute(command)
        ? resolve(envCommand !== undefined ? input.cwd : input.fileDir, command)
        : command,
    arguments: envArguments !== undefined ? envArguments.split(/\s+/) : (file.secret_backend_arguments ?? []),
    timeoutSeconds:
      fromEnv('TIMEOUT', parseSeconds, `a number of seconds > 0 and ≤ ${MAX_TIMER_SECONDS}`) ??
      file.secret_backend_timeout ??
      DEFAULT_SECRET_BACKEND_TIMEOUT_SECONDS,
    allowGroupExec:
      fromEnv('COMMAND_ALLOW_GROUP_EXEC_PERM', parseBoolean, 'true or false') ??
      file.secret_backend_command_allow_group_exec_perm ??
      false,
  };
}

function parseSeconds(text: string): number | undefined {
  const value = Number(text);
  return /^\d+(\.\d+)?$/.test(text) && value > 0 && value <= MAX_TIMER_SECONDS ? value : undefined;
}

function parseBoolean(text: string): boolean | undefined {
  const lower = text.toLowerCase();
  return ['true', '1'].includes(lower) ? true : ['false', '0'].includes(lower) ? false : undefined;
}
