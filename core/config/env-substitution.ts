import type { KeyPath } from './config-problem.js';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface UnsetVariable {
  readonly path: KeyPath;
  readonly variable: string;
}

export interface SubstitutionResult {
  readonly value: unknown;
  readonly unset: readonly UnsetVariable[];
}

/** `$${` escapes a literal `${`; `${NAME}` and `${NAME:-default}` substitute (default when unset or empty). */
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;
const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * Substitutes environment variables in every string value (never in keys). An unquoted scalar that
 * is exactly one reference takes the type its text would have in YAML (number, boolean), so
 * `period: ${PERIOD}` validates as a number; a quoted one stays a string.
 */
export function substituteEnv(
  value: unknown,
  env: Environment,
  isPlainScalar: (path: KeyPath) => boolean = () => false,
): SubstitutionResult {
  const unset: UnsetVariable[] = [];
  const walk = (node: unknown, path: KeyPath): unknown => {
    if (typeof node === 'string') {
      if (!node.includes('${')) return node;
      const replaced = substituteString(node, env, (variable) => unset.push({ path, variable }));
      return WHOLE_REFERENCE.test(node) && isPlainScalar(path) ? retype(replaced) : replaced;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        Object.defineProperty(out, key, {
          value: walk(item, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return node;
  };
  return { value: walk(value, []), unset };
}

export function substituteString(
  text: string,
  env: Environment,
  onUnset: (variable: string) => void,
): string {
  return text.replace(REFERENCE, (match: string, name?: string, fallback?: string) => {
    if (name === undefined) return '${';
    const current = env[name];
    if (fallback !== undefined) return current === undefined || current === '' ? fallback : current;
    if (current === undefined) {
      onUnset(name);
      return match;
    }
    return current;
  });
}

function retype(text: string): unknown {
  if (NUMBER.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}
