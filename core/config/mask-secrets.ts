import { redactValue } from '../log/logger.js';
import { formatKeyPath, type KeyPath } from './config-problem.js';
import type { LoadedInstance } from './loaded-instance.js';

/**
 * Key names whose values are treated as secrets wherever they appear, in addition to the logger's
 * list: secrets, tokens, passwords, credentials and key ids (`aws_access_key_id`, `api_key`, …).
 */
const SECRET_KEY_NAME =
  /(secret|token|password|passwd|credential|authorization|api[_-]?key|app[_-]?key|key[_-]?id|private[_-]?key|external[_-]?id)/i;

export function isSecretKeyName(key: string | number): boolean {
  return typeof key === 'string' && SECRET_KEY_NAME.test(key);
}

export const MASK = '***';

/** What `configcheck` prints for one instance: no secret survives. */
export interface MaskedInstance {
  readonly checkName: string;
  readonly instanceId: string;
  readonly name?: string;
  readonly source: { readonly file: string; readonly line: number };
  readonly initConfig: unknown;
  readonly config: unknown;
}

/**
 * A printable copy of an instance: values resolved from ENC[] (its `secretPaths`), values under
 * secret-named keys and secret-looking strings (AWS keys, ENC handles) are replaced by `***`.
 */
export function maskSecrets(instance: LoadedInstance): MaskedInstance {
  const secretPaths = new Set(instance.secretPaths);
  const mask = (value: unknown, path: KeyPath): unknown => {
    if (secretPaths.has(formatKeyPath(path))) return MASK;
    if (path.length > 64) return null;
    if (Array.isArray(value)) return value.map((item, index) => mask(item, [...path, index]));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const masked =
          isSecretKeyName(key) && item !== undefined && item !== null && item !== ''
            ? MASK
            : mask(item, [...path, key]);
        Object.defineProperty(out, key, {
          value: masked,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return value;
  };
  return {
    checkName: instance.checkName,
    instanceId: instance.instanceId,
    ...(instance.name !== undefined ? { name: instance.name } : {}),
    source: instance.source,
    initConfig: redactValue(mask(instance.initConfig, ['initConfig'])),
    config: redactValue(mask(instance.config, ['config'])),
  };
}
