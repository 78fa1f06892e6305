/**
 * How the demo writes to a terminal: at most 80 columns (the terminal's width down to 60), colour only on
 * a terminal that has it and without NO_COLOR, and a progress line that redraws itself in place on a
 * terminal (and is printed now and then as ordinary lines elsewhere, e.g. into a file or a CI log).
 */

/** The parts of a writable stream the screen uses (process.stdout, or a test double). */
export interface ScreenStream {
  write(text: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
  hasColors?(): boolean;
}

export const MAX_WIDTH = 80;
export const MIN_WIDTH = 60;

const STYLES = { bold: [1, 22], dim: [2, 22], green: [32, 39], red: [31, 39], yellow: [33, 39] } as const;
export type Style = keyof typeof STYLES;

/**
 * Splits `text` into lines of at most `width` characters. Breaks after the characters in `breakAfter`
 * (a space by default; `,` and `|` for DogStatsD lines), cuts a word longer than a line, and starts
 * every line after the first with `indent`.
 */
export function wrap(text: string, width: number, indent = '', breakAfter = ' '): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const char of text) {
    piece += char;
    if (breakAfter.includes(char)) {
      pieces.push(piece);
      piece = '';
    }
  }
  if (piece !== '') pieces.push(piece);
  const lines: string[] = [];
  let line = '';
  const hasContent = (): boolean => line.trim() !== '' && line !== indent;
  for (let next of pieces) {
    while (line.length + next.trimEnd().length > width) {
      if (hasContent()) {
        lines.push(line.trimEnd());
        line = indent;
        next = next.replace(/^ +/, '');
        continue;
      }
      const room = Math.max(1, width - line.length);
      lines.push(line + next.slice(0, room));
      next = next.slice(room);
      line = indent;
    }
    line += next;
  }
  if (hasContent()) lines.push(line.trimEnd());
  return lines;
}

export class DemoScreen {
  readonly width: number;
  readonly colour: boolean;
  /** True on a terminal: the progress line is redrawn in place. */
  readonly live: boolean;
  private progressShown = false;

  constructor(
    private readonly stream: ScreenStream,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.live = stream.isTTY === true;
    const columns = stream.columns ?? MAX_WIDTH;
    this.width = this.live ? Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, columns)) : MAX_WIDTH;
    const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
    this.colour = this.live && !noColor && (stream.hasColors?.() ?? false);
  }

  style(style: Style, text: string): string {
    if (!this.colour) return text;
    const [on, off] = STYLES[style];
    return `\u001b[${on}m${text}\u001b[${off}m`;
  }

  /** One line as is (the caller keeps it within the width), after clearing a live progress line. */
  line(text = ''): void {
    this.clearProgress();
    this.stream.write(`${text}\n`);
  }

  /** Prose, wrapped at spaces; lines after the first start with `indent`. */
  text(text: string, indent = '', style?: Style): void {
    for (const line of wrap(text, this.width, indent)) this.line(style ? this.style(style, line) : line);
  }

  /** A section title. */
  heading(text: string): void {
    this.line();
    for (const line of wrap(`■ ${text}`, this.width, '  ')) this.line(this.style('bold', line));
  }

  /** A DogStatsD line as received, wrapped after `,` and `|` so every part stays readable. */
  datagram(line: string, indent = '  '): void {
    const [first, ...rest] = wrap(`${indent}${line}`, this.width, `${indent}    `, ',|');
    this.line(first);
    for (const more of rest) this.line(this.style('dim', more));
  }

  /** A comma-separated list after `label`, wrapped, cut after `maxLines` lines with a count of the rest. */
  list(label: string, items: readonly string[], indent: string, maxLines: number): void {
    const next = `${indent}  `;
    const lines: string[] = [];
    let line = `${indent}${label}`;
    let shown = 0;
    for (const [index, item] of items.entries()) {
      const piece = index < items.length - 1 ? `${item},` : item;
      const separator = shown === 0 || line === next ? '' : ' ';
      if (line.length + separator.length + piece.length <= this.width) {
        line += separator + piece;
      } else if (lines.length + 1 < maxLines) {
        lines.push(line);
        line = next + piece;
      } else break;
      shown++;
    }
    const more = (): string => ` … (+${items.length - shown})`;
    while (shown < items.length && line.length + more().length > this.width && line.includes(' ')) {
      line = line.slice(0, line.lastIndexOf(' '));
      shown--;
    }
    lines.push(shown < items.length ? `${line.replace(/,$/, '')}${more()}` : line);
    for (const text of lines) this.line(text);
  }

  /** The progress line: redrawn in place on a terminal, an ordinary line elsewhere. */
  progress(text: string): void {
    const fitted = text.length > this.width - 1 ? `${text.slice(0, this.width - 2)}…` : text;
    if (!this.live) {
      this.stream.write(`${fitted}\n`);
      return;
    }
    this.stream.write(`\r\u001b[2K${fitted}`);
    this.progressShown = true;
  }

  /** Leaves the last progress line on screen and moves below it. */
  endProgress(): void {
    if (!this.progressShown) return;
    this.stream.write('\n');
    this.progressShown = false;
  }

  private clearProgress(): void {
    if (!this.progressShown) return;
    this.stream.write('\r\u001b[2K');
    this.progressShown = false;
  }
}
