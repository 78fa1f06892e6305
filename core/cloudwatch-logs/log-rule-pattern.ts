/**
 * The patterns of `log_processing_rules`, which the Agent compiles with Go's RE2. dogwatch runs them
 * with JavaScript's RegExp (`u` flag), and keeps the two in step where a user would notice:
 * - a leading Go flag group, `(?i)`, `(?s)`, `(?m)` or a combination, becomes the RegExp's flags
 *   (JavaScript has no inline flags; Datadog's docs use `(?i)` in their examples);
 * - what RE2 refuses is refused here too, so a rule that loads in dogwatch loads in the Agent:
 *   lookahead and lookbehind (`(?=`, `(?!`, `(?<=`, `(?<!`), backreferences (`\1`, `\k<name>`);
 * - flag groups elsewhere (`(?i:…)`, which RE2 has) are refused with a message saying so, since
 *   Node 20's RegExp has no modifiers;
 * - what only RE2 knows (`\z`, `\Q…\E`, `[[:alpha:]]`, `(?P<name>…)`) is refused by the JavaScript parser,
 *   with its own error.
 */
export type CompiledPattern = { readonly regex: RegExp } | { readonly error: string };

const GO_FLAGS = /^\(\?([imsU]+)\)/;
/** Tested on the pattern with every escaped character (`\\`, `\(`) blanked, except backreferences. */
const REFUSED: readonly { readonly test: RegExp; readonly error: string }[] = [
  {
    test: /\(\?<?[=!]/,
    error: "RE2 (the Agent's regular expressions) has no lookahead or lookbehind",
  },
  { test: /\\[1-9]|\\k</, error: "RE2 (the Agent's regular expressions) has no backreferences" },
  {
    test: /\(\?-?[a-zA-Z]+-?[a-zA-Z]*[:)]/,
    error:
      'a flag group inside the pattern ((?i:…), (?-s)) has no JavaScript equivalent here; only a leading ' +
      '(?i), (?s) or (?m) is translated',
  },
];

/**
 * Compiles a rule's pattern, `anchored` for multi_line (the Agent matches a multi_line pattern at the
 * start of the line). `global`: for mask_sequences, which replace every match.
 */
export function compileRulePattern(
  pattern: string,
  options: { anchored?: boolean; global?: boolean } = {},
): CompiledPattern {
  let body = pattern;
  let flags = 'u';
  const leading = GO_FLAGS.exec(pattern);
  if (leading?.[1] !== undefined) {
    if (leading[1].includes('U'))
      return {
        error: '(?U) (ungreedy) has no JavaScript equivalent; write lazy quantifiers (*?, +?) instead',
      };
    flags += [...new Set(leading[1])].join('');
    body = pattern.slice(leading[0].length);
  }
  // `\\` is a literal backslash and `\(` a literal parenthesis: neither starts a group or a backreference.
  const unescaped = body.replace(/\\\\/g, '').replace(/\\([^1-9k])/g, '_');
  for (const refused of REFUSED) {
    if (refused.test.test(unescaped)) return { error: refused.error };
  }
  if (options.global) flags += 'g';
  try {
    return { regex: new RegExp(options.anchored ? `^(?:${body})` : body, flags) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // "Invalid regular expression: /x/u: Unterminated group" → the reason only.
    return { error: message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') };
  }
}

/**
 * Go's `Regexp.ReplaceAll` template, which the Agent's mask_sequences use for `replace_placeholder`:
 * `$1` or `${1}` is the first group's text, `$name` / `${name}` a named group's, `$$` a `$`. As in Go, a
 * name is the longest run of letters, digits and `_` (so `$1x` is the group named `1x`: empty), and a
 * group that does not exist or did not match is empty; a `$` not followed by a name is kept as is.
 */
export function expandPlaceholder(template: string, match: RegExpExecArray | RegExpMatchArray): string {
  if (!template.includes('$')) return template;
  return template.replace(
    /\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g,
    (whole, token: string, braced?: string, bare?: string) => {
      if (token === '$') return '$';
      const name = braced ?? bare;
      if (name === undefined) return whole;
      if (/^[0-9]+$/.test(name)) return match[Number(name)] ?? '';
      return match.groups?.[name] ?? '';
    },
  );
}
