import { ConfigProblem } from './config-problem.js';
import {
  flagOption,
  type DaemonFlags,
  type DaemonSetting,
  type DefaultContext,
  type EnvReader,
} from './daemon-setting.js';
import {
  DAEMON_SETTINGS,
  type DaemonFile,
  type DaemonSettingKey,
  type SettingValue,
  type SettingWritten,
} from './daemon-settings-table.js';
import type { Environment } from './env-substitution.js';
import type { TextFormat } from './text-formats.js';

export interface SettingSourcesInput {
  readonly flags: DaemonFlags;
  readonly env: Environment;
  /** dogwatch.yaml after validation; empty when there is none (or it is invalid). */
  readonly file: DaemonFile;
  /** Relative paths from flags, environment and defaults resolve against this. */
  readonly cwd: string;
  /** Relative paths from dogwatch.yaml resolve against this: the file's folder. */
  readonly fileDir: string;
  readonly defaults: DefaultContext;
  /** Malformed flag and environment values are added here. */
  readonly problems: ConfigProblem[];
}

/** Set to something other than white space: a blank variable counts as unset. */
const isSet = (value: string | undefined): boolean => value !== undefined && value.trim() !== '';

/**
 * The value of each daemon setting by precedence: flag, then environment, then dogwatch.yaml, then
 * default (DAEMON_SETTINGS). Sources are read lazily, in the order `valueOf` is called: a source that
 * gives a value hides the later ones, whose problems are then not reported.
 */
export class SettingSources {
  private readonly envReader: EnvReader;

  constructor(private readonly input: SettingSourcesInput) {
    this.envReader = {
      env: input.env,
      read: (names, format) => {
        const name = names.find((candidate) => isSet(input.env[candidate]));
        return name !== undefined ? this.parseEnv(name, format) : undefined;
      },
    };
  }

  valueOf<K extends DaemonSettingKey>(key: K): SettingValue<K> {
    // TypeScript does not narrow DAEMON_SETTINGS[key] to the entry of the K it was called with.
    const declared = DAEMON_SETTINGS[key] as unknown as DaemonSetting<SettingWritten<K>, SettingValue<K>>;
    const given = this.fromFlag(declared) ?? declared.env.read(this.envReader);
    if (given !== undefined) return this.placed(declared, given, this.input.cwd);
    const written = this.input.file[key] as SettingWritten<K> | undefined;
    const fromFile = written !== undefined ? declared.fromFile(written) : undefined;
    if (fromFile !== undefined) return this.placed(declared, fromFile, this.input.fileDir);
    return this.placed(declared, declared.default(this.input.defaults), this.input.cwd);
  }

  private placed<Written, Value>(declared: DaemonSetting<Written, Value>, value: Value, dir: string): Value {
    return declared.place !== undefined && value !== undefined && value !== null
      ? declared.place(value, dir)
      : value;
  }

  private fromFlag<Written, Value>(declared: DaemonSetting<Written, Value>): Value | undefined {
    const flag = declared.flag;
    const raw = flag !== undefined ? this.input.flags[flag.name] : undefined;
    if (flag === undefined || raw === undefined) return undefined;
    const option = flagOption(flag);
    return this.parsed(raw, flag.format, {
      file: 'command line',
      keyPath: option,
      hint: `fix the value of ${option}`,
    });
  }

  private parseEnv<T>(name: string, format: TextFormat<T>): T | undefined {
    return this.parsed(this.input.env[name] ?? '', format, {
      file: 'environment',
      keyPath: name,
      hint: `fix or unset ${name}`,
    });
  }

  private parsed<T>(
    raw: string,
    format: TextFormat<T>,
    where: { readonly file: string; readonly keyPath: string; readonly hint: string },
  ): T | undefined {
    const value = format.parse(raw);
    if (value === undefined) {
      this.input.problems.push(
        new ConfigProblem({ ...where, message: `expected ${format.expected}, found ${JSON.stringify(raw)}` }),
      );
    }
    return value;
  }
}
