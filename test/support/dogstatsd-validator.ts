/**
 * A strict validator of DogStatsD datagrams (SPEC §5). The Agent drops a malformed line silently and
 * does not validate names or tags, so tests hold every datagram the sink sends against this.
 * Stricter than the Agent on purpose: fields in the documented order, no unknown fields, no empty
 * lines, no timestamps on types the Agent discards when timestamped.
 */
import assert from 'node:assert/strict';

export interface ValidateOptions {
  /** Timestamps later than this (unix seconds) are implausible. Default: now + 1 day. */
  readonly latestTimestamp?: number;
}

const METRIC_NAME = /^[a-zA-Z][a-zA-Z0-9_.]*$/;
const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
const INTEGER = /^\d+$/;
const METRIC_TYPES = new Set(['g', 'c', 'h', 'd', 's', 'ms']);
/** The Agent forwards timestamped gauges and counts only (SPEC §1). */
const TIMESTAMPABLE_TYPES = new Set(['g', 'c']);
/** 2001-09-09: anything earlier is a unit mistake (ms vs s) or garbage. */
const EARLIEST_TIMESTAMP = 1_000_000_000;
const MAX_NAME_LENGTH = 200;
const MAX_TAG_LENGTH = 200;

/** Every problem with one datagram, each prefixed with its line number; empty when valid. */
export function validateDatagram(
  datagram: Buffer,
  maxBytes: number,
  options: ValidateOptions = {},
): string[] {
  const errors: string[] = [];
  const latest = options.latestTimestamp ?? Math.floor(Date.now() / 1000) + 86_400;
  if (datagram.length === 0) errors.push('empty datagram');
  if (datagram.length > maxBytes)
    errors.push(`datagram is ${String(datagram.length)} bytes, limit ${String(maxBytes)}`);
  const text = datagram.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(datagram)) errors.push('datagram is not valid UTF-8');
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const where = `line ${String(index + 1)}`;
    const lineErrors = line.startsWith('_e{')
      ? validateEvent(line, latest)
      : line.startsWith('_sc|')
        ? validateServiceCheck(line, latest)
        : validateMetric(line, latest);
    for (const error of lineErrors)
      errors.push(`${where}: ${error} in ${JSON.stringify(line.slice(0, 120))}`);
  });
  return errors;
}

/** Throws an AssertionError listing every problem (and the datagram) unless it is valid. */
export function assertValidDatagram(datagram: Buffer, maxBytes: number, options?: ValidateOptions): void {
  const errors = validateDatagram(datagram, maxBytes, options);
  assert.deepEqual(errors, [], `invalid DogStatsD datagram:\n${errors.join('\n')}`);
}

function validateTimestamp(raw: string, latest: number, errors: string[], what: string): void {
  if (!INTEGER.test(raw)) {
    errors.push(`${what} ${JSON.stringify(raw)} is not an integer of unix seconds`);
    return;
  }
  const seconds = Number(raw);
  if (seconds < EARLIEST_TIMESTAMP || seconds > latest) {
    errors.push(`${what} ${raw} is not a plausible unix time in seconds`);
  }
}

function validateTags(section: string, errors: string[]): void {
  if (section === '') {
    errors.push('empty tag section');
    return;
  }
  for (const tag of section.split(',')) {
    if (tag === '') errors.push('empty tag');
    else if (tag.startsWith(':')) errors.push(`tag ${JSON.stringify(tag)} has an empty name`);
    if (/[|#\s]/.test(tag)) errors.push(`tag ${JSON.stringify(tag)} contains | # or whitespace`);
    if (tag.length > MAX_TAG_LENGTH) errors.push(`tag longer than ${String(MAX_TAG_LENGTH)} characters`);
  }
}

function validateName(name: string, errors: string[], what: string): void {
  if (!METRIC_NAME.test(name)) errors.push(`${what} ${JSON.stringify(name)} is not [a-zA-Z][a-zA-Z0-9_.]*`);
  if (name.length > MAX_NAME_LENGTH) errors.push(`${what} longer than ${String(MAX_NAME_LENGTH)} characters`);
}

function validateMetric(line: string, latest: number): string[] {
  const errors: string[] = [];
  if (line === '') return ['empty line'];
  const colon = line.indexOf(':');
  if (colon === -1) return ['metric without ":"'];
  validateName(line.slice(0, colon), errors, 'metric name');
  const [value = '', type = '', ...fields] = line.slice(colon + 1).split('|');
  if (!METRIC_TYPES.has(type)) errors.push(`metric type ${JSON.stringify(type)} is not one of g c h d s ms`);
  if (type === 's') {
    if (value === '') errors.push('empty set value');
  } else if (!NUMBER.test(value) || !Number.isFinite(Number(value))) {
    errors.push(`value ${JSON.stringify(value)} is not a finite number`);
  }
  // Documented order: @rate, #tags, T.
  const order = ['@', '#', 'T'];
  let last = -1;
  for (const field of fields) {
    const position = order.indexOf(field.charAt(0));
    if (position === -1) {
      errors.push(`unknown metric field ${JSON.stringify(field)}`);
      continue;
    }
    if (position <= last) errors.push(`field ${JSON.stringify(field)} repeated or out of order`);
    last = position;
    const body = field.slice(1);
    if (position === 0) {
      const rate = Number(body);
      if (!NUMBER.test(body) || !(rate > 0 && rate <= 1))
        errors.push(`sample rate ${JSON.stringify(body)} not in (0, 1]`);
    } else if (position === 1) {
      validateTags(body, errors);
    } else {
      validateTimestamp(body, latest, errors, 'timestamp');
      if (!TIMESTAMPABLE_TYPES.has(type)) errors.push(`timestamped "${type}" is discarded by the Agent`);
    }
  }
  return errors;
}

/** `_e{<title bytes>,<text bytes>}:title|text|d:|h:|k:|p:|s:|t:|#tags`, lengths checked on bytes. */
function validateEvent(line: string, latest: number): string[] {
  const errors: string[] = [];
  const header = /^_e\{(\d+),(\d+)\}:/.exec(line);
  if (!header) return ['event header is not _e{<title bytes>,<text bytes>}:'];
  const titleBytes = Number(header[1]);
  const textBytes = Number(header[2]);
  const bytes = Buffer.from(line, 'utf8');
  const titleStart = header[0].length;
  const titleEnd = titleStart + titleBytes;
  const textEnd = titleEnd + 1 + textBytes;
  if (titleBytes === 0) errors.push('event title is empty');
  if (bytes[titleEnd] !== 0x7c) {
    return [...errors, `title byte length ${String(titleBytes)} does not end at a "|"`];
  }
  if (textEnd > bytes.length || (textEnd < bytes.length && bytes[textEnd] !== 0x7c)) {
    return [...errors, `text byte length ${String(textBytes)} does not end at a "|" or the end of the line`];
  }
  const title = bytes.subarray(titleStart, titleEnd).toString('utf8');
  const text = bytes.subarray(titleEnd + 1, textEnd).toString('utf8');
  if (Buffer.byteLength(title) !== titleBytes || Buffer.byteLength(text) !== textBytes) {
    errors.push('title or text length splits a UTF-8 character');
  }
  if (textEnd === bytes.length) return errors;
  const fields = bytes
    .subarray(textEnd + 1)
    .toString('utf8')
    .split('|');
  const order = ['d:', 'h:', 'k:', 'p:', 's:', 't:', '#'];
  let last = -1;
  for (const field of fields) {
    const position = order.findIndex((prefix) => field.startsWith(prefix));
    if (position === -1) {
      errors.push(`unknown event field ${JSON.stringify(field)}`);
      continue;
    }
    if (position <= last) errors.push(`field ${JSON.stringify(field)} repeated or out of order`);
    last = position;
    const body = field.slice(order[position]!.length);
    if (position === 0) validateTimestamp(body, latest, errors, 'event date');
    if (position === 3 && body !== 'normal' && body !== 'low')
      errors.push(`priority ${JSON.stringify(body)}`);
    if (position === 5 && !['info', 'warning', 'error', 'success'].includes(body)) {
      errors.push(`alert type ${JSON.stringify(body)}`);
    }
    if (position === 6) validateTags(body, errors);
  }
  return errors;
}

/** `_sc|name|<0..3>|d:|h:|#tags|m:message`, m: last. */
function validateServiceCheck(line: string, latest: number): string[] {
  const errors: string[] = [];
  const [, name = '', status = '', ...fields] = line.split('|');
  validateName(name, errors, 'service check name');
  if (!/^[0-3]$/.test(status)) errors.push(`service check status ${JSON.stringify(status)} is not 0..3`);
  const order = ['d:', 'h:', '#', 'm:'];
  let last = -1;
  for (const field of fields) {
    if (last === 3) {
      errors.push(`field ${JSON.stringify(field)} after m: (m: must be last; a "|" in the message?)`);
      continue;
    }
    const position = order.findIndex((prefix) => field.startsWith(prefix));
    if (position === -1) {
      errors.push(`unknown service check field ${JSON.stringify(field)}`);
      continue;
    }
    if (position <= last) errors.push(`field ${JSON.stringify(field)} repeated or out of order`);
    last = position;
    const body = field.slice(order[position]!.length);
    if (position === 0) validateTimestamp(body, latest, errors, 'service check date');
    if (position === 2) validateTags(body, errors);
  }
  return errors;
}
