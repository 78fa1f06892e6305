/**
 * One thing wrong with the configuration, located precisely enough for a user to fix it without
 * reading code: where (file:line[:column], key path), what was expected and what was found, and how
 * to fix it. Every config loader in dogwatch reports through this type.
 *
 * Contract: no field ever holds a secret value (resolved ENC[] values, tokens, passwords). Loaders
 * describe secret values ("a secret value") instead of quoting them.
 */
export class ConfigProblem {
  /** The file (or `environment` / `command line` for settings that came from there). */
  readonly file: string;
  /** 1-based. */
  readonly line: number | undefined;
  /** 1-based; only for YAML syntax errors. */
  readonly column: number | undefined;
  /** e.g. `instances[1].regions[0]`; for the environment, the variable name. */
  readonly keyPath: string | undefined;
  /** What is wrong, usually `expected …, found …`. */
  readonly message: string;
  /** How to fix it. */
  readonly hint: string | undefined;

  constructor(fields: {
    file: string;
    line?: number;
    column?: number;
    keyPath?: string;
    message: string;
    hint?: string;
  }) {
    this.file = fields.file;
    this.line = fields.line;
    this.column = fields.column;
    this.keyPath = fields.keyPath === '' ? undefined : fields.keyPath;
    this.message = fields.message;
    this.hint = fields.hint;
  }

  /** `file:line[:column]: keyPath: message — fix: hint`, on one line. */
  toString(): string {
    let where = this.file;
    if (this.line !== undefined) where += `:${this.line}`;
    if (this.line !== undefined && this.column !== undefined) where += `:${this.column}`;
    const key = this.keyPath !== undefined ? ` ${this.keyPath}:` : '';
    const fix = this.hint !== undefined ? ` — fix: ${this.hint}` : '';
    return `${where}:${key} ${this.message}${fix}`;
  }

  /** A copy with every field passed through `scrub`, used as the last guard against leaked secrets. */
  map(scrub: (text: string) => string): ConfigProblem {
    return new ConfigProblem({
      file: scrub(this.file),
      line: this.line,
      column: this.column,
      keyPath: this.keyPath === undefined ? undefined : scrub(this.keyPath),
      message: scrub(this.message),
      hint: this.hint === undefined ? undefined : scrub(this.hint),
    });
  }
}

/** Thrown when configuration the daemon cannot start without is invalid; carries every problem found. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      problems.length === 1
        ? `invalid configuration: ${String(problems[0])}`
        : `invalid configuration (${problems.length} problems):\n${problems.map((p) => `  ${String(p)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type KeyPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['instances', 1, 'regions', 0]` → `instances[1].regions[0]`; odd keys are quoted: `tags["a.b"]`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
