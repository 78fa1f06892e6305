import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, Scalar } from 'yaml';
import type { Document, YAMLError } from 'yaml';
import { ConfigProblem, formatKeyPath, type KeyPath } from './config-problem.js';

export interface SourcePosition {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/**
 * A parsed YAML file: its value as written (no substitution) plus where each key and list item sits,
 * so a problem found in the plain value can name its line.
 */
export interface YamlSource {
  readonly file: string;
  readonly value: unknown;
  /** Position of the key (mapping entries) or of the item (list entries) at exactly this path. */
  positionOf(path: KeyPath): SourcePosition | undefined;
  /** Line of the path, or of its nearest ancestor that exists (a missing key → its parent's line). */
  lineOf(path: KeyPath): number | undefined;
  /** True when the value at the path was an unquoted scalar (so `${VAR}` there may yield a number). */
  isPlainScalar(path: KeyPath): boolean;
}

const MAX_DEPTH = 64;
/**
 * Budget of values built from one file. Aliases are expanded, so a few lines of nested anchors ("billion
 * laughs") could otherwise expand to billions of nodes and hang the loader.
 */
const MAX_NODES = 200_000;

class YamlTooLargeError extends Error {}

const SYNTAX_HINTS: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: 'remove or rename the repeated key',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'align the indentation of this block with its siblings',
  MISSING_CHAR: 'add the missing character the message names at this point',
  MULTIPLE_DOCS: 'keep one YAML document per file (remove the extra `---`)',
  UNEXPECTED_TOKEN: 'check the indentation and quoting around this point',
};

export type YamlParseResult =
  | { readonly ok: true; readonly source: YamlSource }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export function parseYamlSource(file: string, text: string): YamlParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((error) => syntaxProblem(file, error)) };
  }
  const positions = new Map<string, SourcePosition>();
  const plainScalars = new Set<string>();
  const at = (offset: number | undefined): SourcePosition | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  let nodes = 0;
  let value: unknown;
  try {
    value = toPlain(doc, doc.contents, [], 0, {
      visit() {
        if (++nodes > MAX_NODES) throw new YamlTooLargeError();
      },
      record(path, offset) {
        const position = at(offset);
        if (position) positions.set(formatKeyPath(path), position);
      },
      plain(path) {
        plainScalars.add(formatKeyPath(path));
      },
    });
  } catch (error) {
    if (!(error instanceof YamlTooLargeError)) throw error;
    return {
      ok: false,
      problems: [
        new ConfigProblem({
          file,
          line: 1,
          message: `the document expands to more than ${MAX_NODES.toLocaleString('en')} values (nested aliases?)`,
          hint: 'write the values out instead of nesting anchors and aliases',
        }),
      ],
    };
  }
  const source: YamlSource = {
    file,
    value,
    positionOf: (path) => positions.get(formatKeyPath(path)),
    lineOf(path) {
      for (let length = path.length; length >= 0; length--) {
        const found = positions.get(formatKeyPath(path.slice(0, length)));
        if (found) return found.line;
      }
      return undefined;
    },
    isPlainScalar: (path) => plainScalars.has(formatKeyPath(path)),
  };
  return { ok: true, source };
}

interface Recorder {
  visit(): void;
  record(path: KeyPath, offset: number | undefined): void;
  plain(path: KeyPath): void;
}

function toPlain(doc: Document, node: unknown, path: KeyPath, depth: number, recorder: Recorder): unknown {
  if (depth > MAX_DEPTH) return null;
  recorder.visit();
  if (isAlias(node)) return toPlain(doc, node.resolve(doc), path, depth + 1, recorder);
  if (isScalar(node)) {
    if (node.type === Scalar.PLAIN) recorder.plain(path);
    return node.value;
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const keyPath = [...path, key];
      recorder.record(keyPath, isScalar(pair.key) ? pair.key.range?.[0] : undefined);
      // defineProperty, so a key named `__proto__` stays a plain key.
      Object.defineProperty(out, key, {
        value: toPlain(doc, pair.value, keyPath, depth + 1, recorder),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (isSeq(node)) {
    return node.items.map((item, index) => {
      const itemPath = [...path, index];
      const range = (item as { range?: [number, number, number] } | null)?.range;
      recorder.record(itemPath, range?.[0]);
      return toPlain(doc, item, itemPath, depth + 1, recorder);
    });
  }
  return null;
}

/**
 * The fix for a YAML error. The parser's codes are broad (MISSING_CHAR covers an unclosed quote and a
 * line indented like a list item without its `-`), so the message decides first.
 */
function syntaxHint(error: YAMLError, message: string): string {
  if (/without - indicator/.test(message))
    return 'this line is indented like an item of the list above without its `- `: indent it as far as the first key after the `- ` above (it continues that item), or start a new item with `- `';
  if (/end with a \]/.test(message) || /flow sequence/i.test(message))
    return 'close the `[` opened above with `]`, or write the list one `- item` per line';
  if (/end with a \}/.test(message) || /flow map/i.test(message))
    return 'close the `{` opened above with `}`, or write the mapping one `key: value` per line';
  if (/quote/i.test(message)) return 'close the quote opened before this point';
  if (/Implicit map keys need to be followed by map values/.test(message))
    return 'add `: value` after the key, or indent this line under the key it belongs to';
  return SYNTAX_HINTS[error.code] ?? 'fix the YAML syntax at this point';
}

function syntaxProblem(file: string, error: YAMLError): ConfigProblem {
  const position = error.linePos?.[0];
  // The parser's message repeats the position and appends a code frame; keep the first sentence.
  const firstLine = error.message.split('\n')[0] ?? error.message;
  const message = firstLine.replace(/ at line \d+, column \d+:?$/, '');
  return new ConfigProblem({
    file,
    line: position?.line,
    column: position?.col,
    message: `invalid YAML: ${message}`,
    hint: syntaxHint(error, message),
  });
}
