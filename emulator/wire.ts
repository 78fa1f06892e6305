/**
 * Wire-level pieces shared by the emulated services: the error type handlers throw, how each AWS
 * protocol writes errors, and opaque pagination tokens.
 */
import { createHash, randomUUID } from 'node:crypto';

/** How a service speaks on the wire (from the SDK clients' `protocol` setting). */
export type WireProtocol = 'json1.0' | 'json1.1' | 'rest-json' | 'query';

/**
 * An error the emulator returns as AWS would. `code` is the modelled shape name (JSON `__type`,
 * REST `x-amzn-ErrorType`); `queryCode` the awsQuery code (STS XML, and CloudWatch's
 * `x-amzn-query-error` header, which the query-compatible SDK reads first).
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly queryCode: string = code,
    /** Extra members of the error body (Lambda's `Type`, `Reason`…). */
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** JSON namespaces the SDKs expect in `__type` (the part before `#` is ignored, kept for realism). */
const JSON_NAMESPACE: Record<string, string> = {
  cloudwatch: 'com.amazonaws.cloudwatch',
  tagging: 'com.amazonaws.resourcegroupstaggingapi',
  cloudtrail: 'com.amazonaws.cloudtrail.v20131101',
  sqs: 'com.amazonaws.sqs',
};

/** XML namespaces of the services that speak the query protocol. */
const QUERY_XMLNS: Record<string, string> = {
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  cloudwatch: 'http://monitoring.amazonaws.com/doc/2010-08-01/',
};

/** Writes an AwsError in the shape the service's protocol uses. */
export function errorResponse(
  protocol: WireProtocol,
  service: string,
  error: AwsError,
  requestId: string,
): WireResponse {
  const fault = error.status >= 500 ? 'Receiver' : 'Sender';
  if (protocol === 'query') {
    const body =
      `<ErrorResponse xmlns="${QUERY_XMLNS[service] ?? QUERY_XMLNS.sts}">` +
      `<Error><Type>${fault}</Type><Code>${xml(error.queryCode)}</Code><Message>${xml(error.message)}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`;
    return {
      status: error.status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body,
    };
  }
  if (protocol === 'rest-json') {
    return {
      status: error.status,
      headers: {
        'content-type': 'application/json',
        'x-amzn-errortype': error.code,
        'x-amzn-requestid': requestId,
      },
      body: JSON.stringify({ ...error.extra, message: error.message }),
    };
  }
  const headers: Record<string, string> = {
    'content-type': `application/x-amz-json-${protocol === 'json1.0' ? '1.0' : '1.1'}`,
    'x-amzn-requestid': requestId,
  };
  // CloudWatch and SQS are awsQueryCompatible: the SDK maps this header to the modelled exception.
  if (service === 'cloudwatch' || service === 'sqs')
    headers['x-amzn-query-error'] = `${error.queryCode};${fault}`;
  const namespace = JSON_NAMESPACE[service] ?? 'com.amazonaws';
  return {
    status: error.status,
    headers,
    body: JSON.stringify({ __type: `${namespace}#${error.code}`, message: error.message, ...error.extra }),
  };
}

export function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function newRequestId(): string {
  return randomUUID();
}

/**
 * Opaque pagination token bound to the request that produced it: reusing it with different parameters
 * is an error, as with AWS.
 */
export function encodeToken(position: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ p: position, f: fingerprint })).toString('base64');
}

/** The position in a token, or undefined when the token is malformed or belongs to other parameters. */
export function decodeToken(token: string, fingerprint: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { p, f } = parsed as { p?: unknown; f?: unknown };
    return typeof p === 'number' && Number.isInteger(p) && p >= 0 && f === fingerprint ? p : undefined;
  } catch {
    return undefined;
  }
}

/** A short hash of request parameters (excluding the token itself). */
export function fingerprint(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('base64').slice(0, 12);
}

/** Reads a JSON body; malformed JSON is the SerializationException AWS returns. */
export function parseJsonBody(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsError('SerializationException', 'Unable to parse the request body as JSON', 400);
}
