import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so equal configs serialise equally whatever their key
 * order in the file. `undefined` members are dropped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, 0)) ?? 'null';
}

function sortKeys(value: unknown, depth: number): unknown {
  if (depth > 64) return null;
  if (Array.isArray(value)) return value.map((item) => sortKeys(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      Object.defineProperty(out, key, {
        value: sortKeys((value as Record<string, unknown>)[key], depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** First 16 hex digits of sha256 over the canonical instance and init_config. */
export function configHash(instance: unknown, initConfig: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(instance))
    .update('\n')
    .update(canonicalJson(initConfig ?? {}))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The Agent-style instance ID: `<check>:<hash>`, or `<check>:<name>:<hash>` when the instance is named.
 * Contract: `instance` and `initConfig` are the values AS WRITTEN in the file (before `${VAR}`
 * substitution, secret resolution and defaults), so secrets never enter the hash and the ID stays the
 * same across restarts as long as the file does. A null or missing init_config hashes as `{}`.
 */
export function instanceId(checkName: string, instance: unknown, initConfig: unknown, name?: string): string {
  const hash = configHash(instance, initConfig);
  return name !== undefined && name !== '' ? `${checkName}:${name}:${hash}` : `${checkName}:${hash}`;
}
