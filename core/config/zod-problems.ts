import type { z } from 'zod';
import { redactString } from '../log/logger.js';
import { ConfigProblem, formatKeyPath, type KeyPath } from './config-problem.js';
import { closestMatch } from '../messages/did-you-mean.js';
import {
  describeFound,
  describeType,
  optionNamesAt,
  schemaAt,
  type JsonSchema,
} from './schema-description.js';
import type { YamlSource } from './yaml-source.js';

/** What turning zod issues into problems needs to know about the value that was validated. */
export interface IssueContext {
  readonly file: string;
  /** Positions; absent for values that did not come from a file. */
  readonly source?: YamlSource;
  /** Where the validated value sits in the file, e.g. `['instances', 1]`; zod paths are relative to it. */
  readonly basePath: KeyPath;
  /** The value that was validated (after substitution and secret resolution). */
  readonly value: unknown;
  readonly jsonSchema: JsonSchema;
  /** True for relative paths whose value must never be quoted (resolved secrets, secret-named keys). */
  isSecret(relativePath: KeyPath): boolean;
  /** "amazon_lambda instance options", for unknown-key messages. */
  readonly optionsName: string;
}

const MAX_LISTED_OPTIONS = 15;

export function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  context: IssueContext,
): ConfigProblem[] {
  return issues.flatMap((issue) => issueToProblems(issue, [], context));
}

function toKeyPath(path: readonly PropertyKey[]): (string | number)[] {
  return path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
}

function valueAt(root: unknown, path: KeyPath): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Object.prototype.hasOwnProperty.call(current, segment)
      ? (current as Record<string | number, unknown>)[segment]
      : undefined;
  }
  return current;
}

function found(context: IssueContext, path: KeyPath): string {
  for (let length = path.length; length >= 1; length--) {
    if (context.isSecret(path.slice(0, length))) return 'a secret value (not shown)';
  }
  return redactString(describeFound(valueAt(context.value, path)));
}

/** The option as a user reads it in a hint: `period`, `regions[0]`. */
function optionName(path: KeyPath): string {
  return path.length === 0 ? 'the value' : `\`${formatKeyPath(path)}\``;
}

function problemAt(context: IssueContext, path: KeyPath, message: string, hint: string | undefined) {
  const fullPath = [...context.basePath, ...path];
  return new ConfigProblem({
    file: context.file,
    line: context.source?.lineOf(fullPath),
    keyPath: formatKeyPath(fullPath),
    message,
    hint,
  });
}

function optionHint(context: IssueContext, path: KeyPath, expected: string): string {
  const schema = schemaAt(context.jsonSchema, path);
  const description = schema?.description !== undefined ? ` (${schema.description})` : '';
  const fallback =
    schema?.default !== undefined
      ? `, or remove it to use the default ${JSON.stringify(schema.default)}`
      : '';
  return `set ${optionName(path)} to ${expected}${description}${fallback}`;
}

function issueToProblems(issue: z.core.$ZodIssue, prefix: KeyPath, context: IssueContext): ConfigProblem[] {
  const path = [...prefix, ...toKeyPath(issue.path)];
  const schema = schemaAt(context.jsonSchema, path);
  const expected =
    schema && Object.keys(schema).length > 0 ? describeType(context.jsonSchema, schema) : undefined;
  if (isMissing(issue, path, context)) return [missingProblem(context, path, schema, expected)];

  switch (issue.code) {
    case 'unrecognized_keys':
      return unknownKeyProblems(issue, path, context);
    case 'invalid_union':
      return unionProblems(issue, path, context, expected);
    case 'invalid_type':
      return [mismatch(context, path, expected ?? `a ${issue.expected}`)];
    case 'invalid_value':
      return [invalidValueProblem(issue, path, context, expected)];
    case 'too_small':
    case 'too_big':
      return [mismatch(context, path, expected ?? boundText(issue))];
    case 'custom':
      return [customProblem(issue, path, context)];
    case 'invalid_format':
      return [formatProblem(issue, path, context)];
    default: {
      const wanted = expected ?? 'a valid value';
      return [mismatch(context, path, wanted, `${wanted} (${issue.message})`)];
    }
  }
}

/**
 * The common problem: `expected <wanted>, found <what is there>`, fixed by setting the option to
 * `wanted`. `stated` replaces `wanted` in the message only (e.g. to add zod's own words).
 */
function mismatch(context: IssueContext, path: KeyPath, wanted: string, stated = wanted): ConfigProblem {
  return problemAt(
    context,
    path,
    `expected ${stated}, found ${found(context, path)}`,
    optionHint(context, path, wanted),
  );
}

/** zod reports an absent required key as a wrong type or value; say that it is missing instead. */
function isMissing(issue: z.core.$ZodIssue, path: KeyPath, context: IssueContext): boolean {
  return (
    (issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value') &&
    path.length > 0 &&
    valueAt(context.value, path) === undefined
  );
}

function missingProblem(
  context: IssueContext,
  path: KeyPath,
  schema: JsonSchema | undefined,
  expected: string | undefined,
): ConfigProblem {
  const description = schema?.description !== undefined ? `: ${schema.description}` : '';
  return problemAt(
    context,
    path,
    `missing required option: expected ${expected ?? 'a value'}, found nothing`,
    `add ${optionName(path)}${description}`,
  );
}

/** One problem per unknown key, with a did-you-mean from the options valid at that place. */
function unknownKeyProblems(
  issue: z.core.$ZodIssueUnrecognizedKeys,
  path: KeyPath,
  context: IssueContext,
): ConfigProblem[] {
  const candidates = optionNamesAt(context.jsonSchema, path);
  const listed =
    candidates.length > MAX_LISTED_OPTIONS
      ? `${candidates.slice(0, MAX_LISTED_OPTIONS).join(', ')}, …`
      : candidates.join(', ');
  return issue.keys.map((key) => {
    const suggestion = closestMatch(key, candidates);
    const didYouMean = suggestion !== undefined ? ` (did you mean ${suggestion}?)` : '';
    return problemAt(
      context,
      [...path, key],
      `unknown option '${key}'${didYouMean}: expected one of the ${context.optionsName} (${listed}), found '${key}'`,
      suggestion !== undefined
        ? `rename it to \`${suggestion}\``
        : 'remove it (see conf.yaml.example for the options)',
    );
  });
}

function unionProblems(
  issue: z.core.$ZodIssueInvalidUnion,
  path: KeyPath,
  context: IssueContext,
  expected: string | undefined,
): ConfigProblem[] {
  // Follow the branch whose outer type matched (its issues sit deeper than the union itself),
  // so `regions: [1]` reports `regions[0]` rather than "not a list or 'all'".
  const deeper = issue.errors
    .filter((branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 0))
    .sort((a, b) => a.length - b.length)[0];
  if (deeper) return deeper.flatMap((inner) => issueToProblems(inner, path, context));
  return [mismatch(context, path, expected ?? 'a valid value', expected ?? 'a different value')];
}

/** A value outside an enum: name the closest allowed value when there is one. */
function invalidValueProblem(
  issue: z.core.$ZodIssueInvalidValue,
  path: KeyPath,
  context: IssueContext,
  expected: string | undefined,
): ConfigProblem {
  const value = valueAt(context.value, path);
  const options = issue.values.map((v) => (typeof v === 'string' ? v : String(v)));
  const suggestion = typeof value === 'string' ? closestMatch(value, options) : undefined;
  const wanted = expected ?? `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (suggestion === undefined) return mismatch(context, path, wanted);
  return problemAt(
    context,
    path,
    `expected ${wanted}, found ${found(context, path)} (did you mean ${JSON.stringify(suggestion)}?)`,
    `write ${JSON.stringify(suggestion)}`,
  );
}

/** Custom refinements phrase their own expectation and may bring their own fix (`params.hint`). */
function customProblem(issue: z.core.$ZodIssueCustom, path: KeyPath, context: IssueContext): ConfigProblem {
  const message = /\bfound\b/.test(issue.message)
    ? issue.message
    : `${issue.message}, found ${found(context, path)}`;
  const schema = schemaAt(context.jsonSchema, path);
  const description = schema?.description !== undefined ? `: ${schema.description}` : '';
  const hint = (issue.params as { hint?: unknown } | undefined)?.hint;
  return problemAt(
    context,
    path,
    message,
    typeof hint === 'string' ? hint : `correct ${optionName(path)}${description}`,
  );
}

/** A string of the wrong shape: say which shape (the schema's message), not "a string". */
function formatProblem(issue: z.core.$ZodIssueInvalidStringFormat, path: KeyPath, context: IssueContext) {
  const wanted =
    issue.format === 'regex'
      ? issue.message
      : issue.format === 'url'
        ? 'a URL such as http://127.0.0.1:4566'
        : `a valid ${issue.format}`;
  return mismatch(context, path, wanted);
}

function boundText(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const bound = String(small ? issue.minimum : issue.maximum);
  const op = small ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
  switch (issue.origin) {
    case 'array':
    case 'set':
      return `${small ? 'at least' : 'at most'} ${bound} item(s)`;
    case 'string':
      return `${small ? 'at least' : 'at most'} ${bound} character(s)`;
    default:
      return `a number ${op} ${bound}`;
  }
}
