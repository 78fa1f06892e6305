/**
 * CloudWatch over the AWS query protocol (awsQuery): what AWS CLI v1 and v2 releases before CloudWatch
 * moved to JSON (aws-cli 2.9 in Debian 12, for one) and older SDKs send. A request is a form-encoded
 * body, `Action=ListMetrics&Version=2010-08-01&Namespace=AWS%2FLambda&Dimensions.member.1.Name=…`; an
 * answer is XML in CloudWatch's response shapes (`<ListMetricsResponse><ListMetricsResult>…`), lists as
 * `<member>` elements, maps as `<entry><key/><value/></entry>`, timestamps in ISO 8601, and errors as
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 *
 * The emulated CloudWatch speaks JSON: a query request is decoded into the same JSON input, and the
 * JSON output is written back as XML, so both protocols share one implementation.
 */
import { AwsError, xml } from './wire.js';

export const CLOUDWATCH_QUERY_VERSION = '2010-08-01';
export const CLOUDWATCH_XMLNS = 'http://monitoring.amazonaws.com/doc/2010-08-01/';

/** Input members that are not strings on the wire (the query protocol writes every value as text). */
const NUMBER_MEMBERS = new Set(['Period', 'MaxDatapoints']);
const BOOLEAN_MEMBERS = new Set(['ReturnData', 'IncludeLinkedAccounts']);
/** Output members holding timestamps (epoch seconds in JSON, ISO 8601 in XML). */
const TIMESTAMP_MEMBERS = new Set(['Timestamp', 'Timestamps']);
/** Output members that are maps. */
const MAP_MEMBERS = new Set(['ExtendedStatistics']);

type Node = Record<string, unknown> | unknown[];

function scalar(member: string, text: string, where: string): unknown {
  if (NUMBER_MEMBERS.has(member)) {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value))
      throw new AwsError(
        'InvalidParameterValue',
        `The value ${text} for parameter ${where} is not a number.`,
        400,
      );
    return value;
  }
  if (BOOLEAN_MEMBERS.has(member)) {
    if (text !== 'true' && text !== 'false')
      throw new AwsError(
        'InvalidParameterValue',
        `The value ${text} for parameter ${where} is not a boolean.`,
        400,
      );
    return text === 'true';
  }
  return text;
}

/**
 * `Dimensions.member.2.Name=x` → `{Dimensions: [, {Name: 'x'}]}`: `member.N` is the Nth item (1-based)
 * of a list. Action and Version are the envelope, not input.
 */
export function decodeQueryInput(body: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if (key === 'Action' || key === 'Version') continue;
    const parts = key.split('.');
    let node: Node = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const last = i === parts.length - 1;
      if (part === 'member' && Array.isArray(node)) continue;
      const index = Array.isArray(node) ? Number(part) - 1 : undefined;
      if (index !== undefined && (!Number.isInteger(index) || index < 0 || index > 10_000))
        throw new AwsError('InvalidParameterValue', `The parameter ${key} is not valid.`, 400);
      const slot: string | number = index ?? part;
      const container = node as Record<string | number, unknown>;
      if (last) {
        const member = [...parts].reverse().find((p) => p !== 'member' && !/^\d+$/.test(p)) ?? part;
        container[slot] = scalar(member, value, key);
        break;
      }
      const nextIsList = parts[i + 1] === 'member';
      container[slot] ??= nextIsList ? [] : {};
      node = container[slot] as Node;
    }
  }
  return compact(root) as Record<string, unknown>;
}

/** Lists written with gaps (member.1, member.3) lose the holes, as AWS reads them. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((item) => item !== undefined).map(compact);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compact(v)]));
  return value;
}

function element(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (MAP_MEMBERS.has(name) && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value).map(
      ([key, item]) => `<entry><key>${xml(key)}</key>${element('value', item)}</entry>`,
    );
    return `<${name}>${entries.join('')}</${name}>`;
  }
  if (Array.isArray(value)) {
    const items = value.map((item) =>
      TIMESTAMP_MEMBERS.has(name) ? `<member>${isoTime(item)}</member>` : element('member', item),
    );
    return `<${name}>${items.join('')}</${name}>`;
  }
  if (typeof value === 'object') {
    const children = Object.entries(value).map(([key, item]) => element(key, item));
    return `<${name}>${children.join('')}</${name}>`;
  }
  const text = TIMESTAMP_MEMBERS.has(name) ? isoTime(value) : xml(scalarText(value));
  return `<${name}>${text}</${name}>`;
}

/** A scalar output value as XML text (objects and lists were handled as elements above). */
function scalarText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isoTime(value: unknown): string {
  const seconds = typeof value === 'number' ? value : Date.parse(String(value)) / 1000;
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** A CloudWatch JSON output as the query protocol's XML answer for `operation`. */
export function encodeQueryOutput(
  operation: string,
  output: Record<string, unknown>,
  requestId: string,
): string {
  const result = Object.entries(output)
    .map(([key, value]) => element(key, value))
    .join('');
  return (
    `<${operation}Response xmlns="${CLOUDWATCH_XMLNS}"><${operation}Result>${result}</${operation}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`
  );
}
