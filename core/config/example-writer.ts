import { stringify } from 'yaml';
import type { CheckDefinition } from '../check/check.js';
import { buildInitConfigSchema, buildInstanceSchema } from './reserved-keys.js';
import { describeTypeShort, inputJsonSchema, type JsonSchema } from './schema-description.js';

const WRAP = 96;

/**
 * Renders `conf.d/<check>.d/conf.yaml.example` from the check's schemas, in the Agent's
 * `## @param name - type - required|optional - default: x` style. Descriptions come from zod
 * `.describe()` / `.meta({ description, examples })`, so the schema is the one source of truth.
 * Required options with an example are written uncommented, so a copied example is nearly runnable.
 */
export function renderConfExample(definition: CheckDefinition): string {
  const initSchema = inputJsonSchema(buildInitConfigSchema(definition));
  const instanceSchema = inputJsonSchema(buildInstanceSchema(definition));
  const lines: string[] = [
    `## ${definition.name}: ${definition.description}`,
    '##',
    `## Copy this file to conf.d/${definition.name}.d/conf.yaml and edit it. Values may use \${ENV_VAR},`,
    '## ${ENV_VAR:-default} and ENC[handle] (resolved by secret_backend_command).',
    ...(definition.exampleNotes ?? []).flatMap((note) => ['##', ...wrapComment(note, '## ')]),
    '',
    '## All options defined here are available to all instances.',
    '#',
    'init_config:',
    '',
    ...renderOptions(initSchema, initSchema, '    ', ''),
    '## Every instance is scheduled independently of the others.',
    '#',
    'instances:',
    '',
    '  -',
    ...renderOptions(instanceSchema, instanceSchema, '    ', ''),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

function renderOptions(root: JsonSchema, schema: JsonSchema, indent: string, prefix: string): string[] {
  const required = new Set(schema.required ?? []);
  const lines: string[] = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (typeof property !== 'object') continue;
    const isRequired = required.has(name) && property.default === undefined;
    lines.push(...renderOption(root, name, property, isRequired, indent, prefix), '');
  }
  return lines;
}

function renderOption(
  root: JsonSchema,
  name: string,
  option: JsonSchema,
  isRequired: boolean,
  indent: string,
  prefix: string,
): string[] {
  const qualified = `${prefix}${name}`;
  const defaultText = option.default !== undefined ? ` - default: ${JSON.stringify(option.default)}` : '';
  const lines = [
    `${indent}## @param ${qualified} - ${describeTypeShort(root, option)} - ${isRequired ? 'required' : 'optional'}${defaultText}`,
  ];
  for (const line of wrap(option.description ?? 'No description.', WRAP - indent.length - 3)) {
    lines.push(`${indent}## ${line}`);
  }
  lines.push(`${indent}#`);
  // Nested options are documented under their parent (`parent.child`, `parent[].child`), never set.
  const items = typeof option.items === 'object' && !Array.isArray(option.items) ? option.items : undefined;
  if (option.properties !== undefined) {
    lines.push(...renderOptions(root, option, indent, `${qualified}.`).filter((line) => line !== ''));
  } else if (items?.properties !== undefined) {
    lines.push(...renderOptions(root, items, indent, `${qualified}[].`).filter((line) => line !== ''));
  }
  if (prefix !== '') return lines;
  const example = option.examples?.[0] ?? option.default;
  const written = example !== undefined ? yamlLines(name, example) : [`${name}: <${name.toUpperCase()}>`];
  const uncommented = isRequired && option.examples?.[0] !== undefined;
  for (const line of written) lines.push(`${indent}${uncommented ? '' : '# '}${line}`);
  return lines;
}

function yamlLines(name: string, value: unknown): string[] {
  return stringify({ [name]: value })
    .trimEnd()
    .split('\n');
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter((w) => w !== '')) {
      if (line !== '' && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    out.push(line);
  }
  return out;
}

export interface ExampleOptionNames {
  readonly initConfig: readonly string[];
  readonly instances: readonly string[];
}

/**
 * The option names a conf.yaml.example documents (its `@param` lines), per section, so a test can
 * hold an example file against its schema. Nested options read `parent.child` / `parent[].child`.
 */
export function parseExampleOptionNames(text: string): ExampleOptionNames {
  const initConfig: string[] = [];
  const instances: string[] = [];
  let section: string[] | undefined;
  for (const line of text.split('\n')) {
    if (/^init_config:/.test(line)) section = initConfig;
    else if (/^instances:/.test(line)) section = instances;
    const param = /^\s*## @param (\S+)/.exec(line);
    if (param?.[1] !== undefined && section) section.push(param[1]);
  }
  return { initConfig, instances };
}

/** A paragraph as comment lines of at most WRAP characters. */
function wrapComment(text: string, lead: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && lead.length + line.length + 1 + word.length > WRAP) {
      lines.push(lead + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(lead + line);
  return lines;
}
