/**
 * ENC[] values in conf.d, as the Datadog Agent treats them: a string that is exactly `ENC[handle]` is
 * replaced by the secret the backend returns for `handle`; ENC[ anywhere else in a value is refused
 * (the Agent would leave it as written, and it would be sent literally, e.g. as the tag `tag:enc_h_`).
 */
import type { KeyPath } from './config-problem.js';
import {
  SecretBackendError,
  secretHandleOf,
  type SecretResolution,
  type SecretResolver,
} from './secret-resolver.js';

/** The resolution error every handle gets when no backend is configured. */
export const NO_BACKEND = 'no secret backend is configured';

/** An ENC[] value found in a section (init_config or an instance), before resolution. */
export interface SecretReference {
  /** Relative to the section that holds it. */
  readonly path: KeyPath;
  readonly handle: string;
}

const EMBEDDED = /ENC\[/;

/** Whole-value ENC[] references, and the paths of strings with ENC[ inside a longer value. */
export function findSecretReferences(value: unknown): { secrets: SecretReference[]; embedded: KeyPath[] } {
  const secrets: SecretReference[] = [];
  const embedded: KeyPath[] = [];
  const visit = (item: unknown, path: KeyPath): void => {
    if (typeof item === 'string') {
      const handle = secretHandleOf(item);
      if (handle !== undefined) secrets.push({ path, handle });
      else if (EMBEDDED.test(item)) embedded.push(path);
    } else if (Array.isArray(item)) item.forEach((child, index) => visit(child, [...path, index]));
    else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) visit(child, [...path, key]);
    }
  };
  visit(value, []);
  return { secrets, embedded };
}

/** One backend call for every handle of a load; a failed backend fails every handle with its reason. */
export async function resolveHandles(
  handles: ReadonlySet<string>,
  resolver: SecretResolver | undefined,
): Promise<ReadonlyMap<string, SecretResolution>> {
  if (handles.size === 0) return new Map();
  const everyHandle = (error: string) => new Map([...handles].map((handle) => [handle, { error }] as const));
  if (!resolver) return everyHandle(NO_BACKEND);
  try {
    return await resolver.resolve([...handles]);
  } catch (error) {
    return everyHandle(error instanceof SecretBackendError ? error.message : 'the secret backend failed');
  }
}

/**
 * A copy of `value` with each resolved reference replaced by its secret, and the paths replaced;
 * `onError` hears about each reference that did not resolve (its value is left as written).
 */
export function replaceSecrets(
  value: unknown,
  secrets: readonly SecretReference[],
  resolutions: ReadonlyMap<string, SecretResolution>,
  onError: (secret: SecretReference, error: string) => void,
): { value: unknown; secretPaths: KeyPath[] } {
  let replaced = value;
  const secretPaths: KeyPath[] = [];
  for (const secret of secrets) {
    const resolution = resolutions.get(secret.handle) ?? {
      error: 'the backend returned nothing for this handle',
    };
    if ('error' in resolution) {
      onError(secret, resolution.error);
      continue;
    }
    replaced = setAt(replaced, secret.path, resolution.value);
    secretPaths.push(secret.path);
  }
  return { value: replaced, secretPaths };
}

function setAt(root: unknown, path: KeyPath, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(root) && typeof head === 'number') {
    return (root as readonly unknown[]).map((item, index) =>
      index === head ? setAt(item, rest, replacement) : item,
    );
  }
  if (root !== null && typeof root === 'object' && head !== undefined) {
    const copy: Record<string, unknown> = { ...(root as Record<string, unknown>) };
    // defineProperty, so a key named `__proto__` stays a plain key.
    Object.defineProperty(copy, head, {
      value: setAt((root as Record<string, unknown>)[head], rest, replacement),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return copy;
  }
  return root;
}
