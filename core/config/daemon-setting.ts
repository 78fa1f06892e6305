/**
 * The shape of one daemon setting's declaration (daemon-settings-table.ts): everything about a setting
 * is written once, and the precedence (setting-sources.ts), the dogwatch.yaml schema, `--help` and the
 * README's table are derived from it. Loads without zod: the command line builds `--help` from these
 * declarations for every command, including the `health` probe.
 */
import type { z } from 'zod';
import type { Environment } from './env-substitution.js';
import type { TextFormat } from './text-formats.js';

export type Zod = typeof z;

/** Command-line flags that override settings (commander's camelCase option names). */
export interface DaemonFlags {
  readonly config?: string;
  readonly confd?: string;
  readonly stateDir?: string;
  readonly statusAddr?: string;
  readonly logLevel?: string;
  readonly logFormat?: string;
}

/** A flag: `--state-dir <dir>` for the name `stateDir` (commander's camelCase of the long option). */
export interface SettingFlag {
  readonly name: keyof DaemonFlags;
  /** `<dir>`: what the value is, in `--help`. */
  readonly argument: string;
  readonly short?: string;
  /** When set, commander refuses other values before the settings are read. */
  readonly choices?: readonly string[];
}

/** Reads the environment for a setting; malformed values become problems naming the variable. */
export interface EnvReader {
  /**
   * The first of `names` that is set and not blank, read with `format`; undefined when none is set, or
   * when the value is malformed (a problem then names the variable).
   */
  read<T>(names: readonly string[], format: TextFormat<T>): T | undefined;
  readonly env: Environment;
}

/** Where a setting comes from in the environment. */
export interface SettingEnv<Value> {
  /** Every variable the setting reads, in precedence order. */
  readonly names: readonly string[];
  readonly read: (reader: EnvReader) => Value | undefined;
  /** The README's words for the environment column, when more than the names (Markdown). */
  readonly docs?: string;
}

export interface DefaultContext {
  /** Whether the daemon's stderr is a terminal (text logs for people, JSON for collectors). */
  readonly stderrIsTty: boolean;
}

/**
 * One daemon setting. Precedence: flag, then environment, then dogwatch.yaml, then default; a source
 * that is absent (or malformed: a problem) gives way to the next.
 * `Written` is what dogwatch.yaml holds after validation, `Value` what the daemon uses.
 */
export interface DaemonSetting<Written, Value> {
  /** One line (Markdown: only `code`), for `--help`, the README and problems about the key. */
  readonly help: string;
  /** The value's schema in dogwatch.yaml, built with the zod handed in. */
  readonly schema: (zod: Zod) => z.ZodType<Written>;
  /** The file's value as the daemon uses it; undefined gives way to the default. */
  readonly fromFile: (written: Written) => Value | undefined;
  readonly env: SettingEnv<Value>;
  readonly flag?: SettingFlag & { readonly format: TextFormat<Value> };
  /** For values relative to where they were written (paths): `dir` is the file's folder or the working folder. */
  readonly place?: (value: NonNullable<Value>, dir: string) => Value;
  readonly default: (context: DefaultContext) => Value;
  /** The default as `--help` and the README say it (Markdown: only `code`). */
  readonly defaultDocs: string;
}

/** Declares a setting whose dogwatch.yaml value is used as written. */
export function setting<Value>(
  declaration: Omit<DaemonSetting<Value, Value>, 'fromFile'>,
): DaemonSetting<Value, Value>;
/** Declares a setting whose dogwatch.yaml value is turned into the daemon's value by `fromFile`. */
export function setting<Written, Value>(
  declaration: DaemonSetting<Written, Value>,
): DaemonSetting<Written, Value>;
export function setting<Written, Value>(
  declaration: Omit<DaemonSetting<Written, Value>, 'fromFile'> & {
    readonly fromFile?: (written: Written) => Value | undefined;
  },
): DaemonSetting<Written, Value> {
  return { fromFile: (written) => written as unknown as Value, ...declaration };
}

/** The first of `names` that is set and not blank, read with `format`. */
export function fromEnv<T>(names: readonly string[], format: TextFormat<T>): SettingEnv<T> {
  return { names, read: (reader) => reader.read(names, format) };
}

/** `--state-dir` for `stateDir`: how commander spells the option whose value it stores as `name`. */
export function flagOption(flag: Pick<SettingFlag, 'name'>): string {
  return `--${flag.name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** A zod string that must read as the format, so file values get the same check and wording as text. */
export function textSchema<T>(zod: Zod, format: TextFormat<T>): z.ZodType<string> {
  return zod.string().superRefine((text, context) => {
    if (format.parse(text) === undefined) {
      context.addIssue({
        code: 'custom',
        message: `expected ${format.expected}, found ${JSON.stringify(text)}`,
      });
    }
  });
}
