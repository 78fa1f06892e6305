import { z } from 'zod';
import type { KeyPath } from './config-problem.js';
import { describeFound } from '../messages/describe-found.js';

export { describeFound };

export type JsonSchema = z.core.JSONSchema.JSONSchema;

/**
 * The JSON Schema of what a user may write (zod's input side), which carries descriptions, defaults
 * and bounds as plain data. Problems and example files both describe options from it, so the two
 * never disagree. Parts JSON Schema cannot express (transforms, custom refinements) become `{}`.
 */
export function inputJsonSchema(schema: z.ZodType): JsonSchema {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return {};
  }
}

function asSchema(value: unknown): JsonSchema | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonSchema)
    : undefined;
}

function deref(root: JsonSchema, schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/$defs/')) {
    return asSchema(root.$defs?.[ref.slice('#/$defs/'.length)]) ?? schema;
  }
  return schema;
}

/** The sub-schema at a key path, following objects, lists, records and the first union branch that fits. */
export function schemaAt(root: JsonSchema, path: KeyPath): JsonSchema | undefined {
  let current: JsonSchema | undefined = deref(root, root);
  for (const segment of path) {
    if (current === undefined) return undefined;
    current = step(root, current, segment);
  }
  return current;
}

function step(root: JsonSchema, schema: JsonSchema, segment: string | number): JsonSchema | undefined {
  const branches = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  for (const branch of branches) {
    const found = step(root, deref(root, branch), segment);
    if (found !== undefined) return found;
  }
  if (typeof segment === 'number') {
    const items = schema.items;
    if (Array.isArray(items)) return asSchema(items[segment]);
    const prefix = schema.prefixItems?.[segment];
    const found = asSchema(prefix) ?? asSchema(items);
    return found ? deref(root, found) : undefined;
  }
  const property = asSchema(schema.properties?.[segment]) ?? asSchema(schema.additionalProperties);
  return property ? deref(root, property) : undefined;
}

/** Option names of the mapping at a path (for "did you mean" and "expected one of"). */
export function optionNamesAt(root: JsonSchema, path: KeyPath): string[] {
  const schema = schemaAt(root, path);
  if (!schema) return [];
  const names = new Set<string>(Object.keys(schema.properties ?? {}));
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) {
    for (const key of Object.keys(deref(root, branch).properties ?? {})) names.add(key);
  }
  return [...names];
}

const SAFE_MAX = Number.MAX_SAFE_INTEGER;

function bounds(schema: JsonSchema): string {
  const parts: string[] = [];
  const min = schema.minimum;
  const max = schema.maximum;
  const xmin = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : undefined;
  const xmax = typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : undefined;
  if (min !== undefined && min > -SAFE_MAX) parts.push(`≥ ${min}`);
  if (xmin !== undefined) parts.push(`> ${xmin}`);
  if (max !== undefined && max < SAFE_MAX) parts.push(`≤ ${max}`);
  if (xmax !== undefined) parts.push(`< ${xmax}`);
  return parts.length > 0 ? ` ${parts.join(' and ')}` : '';
}

function literal(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

interface Phrase {
  /** With its article: "a list of strings". */
  readonly one: string;
  /** As the items of a list: "strings". */
  readonly many: string;
}

function phrase(root: JsonSchema, input: JsonSchema, depth: number): Phrase {
  const schema = deref(root, input);
  if (depth > 6) return { one: 'a value', many: 'values' };
  if (schema.const !== undefined) return { one: literal(schema.const), many: literal(schema.const) };
  if (schema.enum !== undefined) {
    const values = schema.enum.map(literal);
    const text = values.length === 1 ? (values[0] ?? '') : `one of ${values.join(', ')}`;
    return { one: text, many: values.join(' or ') };
  }
  const branches = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  if (branches.length > 0) {
    const parts = branches.map((b) => phrase(root, b, depth + 1));
    return { one: parts.map((p) => p.one).join(' or '), many: parts.map((p) => p.many).join(' or ') };
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type !== undefined ? [schema.type] : [];
  if (types.length > 1) {
    const parts = types.map((type) => phrase(root, { ...schema, type }, depth + 1));
    return { one: parts.map((p) => p.one).join(' or '), many: parts.map((p) => p.many).join(' or ') };
  }
  switch (types[0]) {
    case 'string': {
      const nonEmpty = (schema.minLength ?? 0) >= 1 ? 'non-empty ' : '';
      const format = schema.format !== undefined ? ` (${schema.format})` : '';
      return { one: `a ${nonEmpty}string${format}`, many: `${nonEmpty}strings${format}` };
    }
    case 'integer':
      return { one: `an integer${bounds(schema)}`, many: `integers${bounds(schema)}` };
    case 'number':
      return { one: `a number${bounds(schema)}`, many: `numbers${bounds(schema)}` };
    case 'boolean':
      return { one: 'true or false', many: 'booleans' };
    case 'null':
      return { one: 'null', many: 'nulls' };
    case 'array': {
      const items = asSchema(schema.items);
      const of = items && Object.keys(items).length > 0 ? ` of ${phrase(root, items, depth + 1).many}` : '';
      const nonEmpty = (schema.minItems ?? 0) >= 1 ? 'non-empty ' : '';
      return { one: `a ${nonEmpty}list${of}`, many: `lists${of}` };
    }
    case 'object':
      return { one: 'a mapping', many: 'mappings' };
    default:
      return { one: 'any value', many: 'values' };
  }
}

/** "an integer ≥ 60", "a non-empty list of strings or \"all\"", "one of \"text\", \"json\"". */
export function describeType(root: JsonSchema, schema: JsonSchema): string {
  return phrase(root, schema, 0).one;
}

/** The same without the leading article, for the type column of example files. */
export function describeTypeShort(root: JsonSchema, schema: JsonSchema): string {
  return describeType(root, schema)
    .split(' or ')
    .map((part) => part.replace(/^(a|an) /, ''))
    .join(' or ');
}
