import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { collectBody } from '@smithy/core/protocols';
import type { HttpRequest, HttpResponse } from '@smithy/types';
import { encodeGetMetricDataInput } from './get-metric-data-request.js';

/**
 * A lean JSON codec for CloudWatch's two bulk operations, GetMetricData and ListMetrics, in front of the
 * SDK's own (schema-driven) one.
 *
 * Why: a large run is hundreds of GetMetricData calls of 500 queries, and a discovery refresh hundreds
 * of ListMetrics pages. The SDK's generic serde walks every member through schema objects and
 * generators, and at that volume its garbage dominated the process's allocation and stalled the event
 * loop in major GCs (figures in BENCHMARKS.md). Both wire formats are
 * plain JSON (AWS JSON 1.0): GetMetricData's request is the input with timestamps as epoch seconds, and
 * both responses map back as they are (GetMetricData's timestamps as Dates).
 *
 * Scope, so that nothing else changes: only these two operations, only successful (2xx) responses whose
 * JSON has exactly the expected shape (ListMetrics' small requests stay the SDK's). Everything else
 * (errors and their retry classification, other operations, a malformed or unexpected response) goes
 * through the SDK's protocol unchanged, the body handed back to it as bytes. Signing, retries, rate
 * limiting and metadata are the SDK's as before.
 */

interface OperationSchemaLike {
  readonly name?: string;
}

/** The part of the SDK's protocol object the codec wraps (HttpProtocol's public surface). */
interface ProtocolLike {
  serializeRequest(operation: OperationSchemaLike, input: unknown, context: unknown): Promise<HttpRequest>;
  deserializeResponse(
    operation: OperationSchemaLike,
    context: unknown,
    response: HttpResponse,
  ): Promise<unknown>;
}

/** Response decoders by operation name: the output from the body's bytes, or undefined (SDK decides). */
const DECODERS: Readonly<Record<string, (bytes: Uint8Array) => Record<string, unknown> | undefined>> = {
  GetMetricData: decodeGetMetricDataOutput,
  ListMetrics: decodeListMetricsOutput,
};

/**
 * Installs the codec on a CloudWatch client (its protocol object is wrapped; the client keeps calling
 * it through its config, as before). Idempotent.
 */
export function useLeanCloudWatchCodec(client: CloudWatchClient): void {
  const config = client.config as unknown as {
    protocol?: ProtocolLike & { [LEAN]?: true; getShapeId?: () => string };
  };
  const base = config.protocol;
  // The codec speaks AWS JSON 1.0 only: an SDK that talks to CloudWatch any other way (or whose
  // protocol object looks different) keeps its own serde, untouched.
  if (
    !base ||
    typeof base.serializeRequest !== 'function' ||
    typeof base.deserializeResponse !== 'function' ||
    base.getShapeId?.() !== JSON_1_0
  )
    return;
  if (base[LEAN]) return;
  const lean: ProtocolLike & { [LEAN]?: true } = Object.create(base) as ProtocolLike;
  lean[LEAN] = true;
  lean.serializeRequest = async (operation, input, context) => {
    const body = operation.name === 'GetMetricData' ? encodeGetMetricDataInput(input) : undefined;
    if (body === undefined) return base.serializeRequest.call(lean, operation, input, context);
    // The smithy context is the one object both serde steps share (each gets its own copy of the rest).
    if ((input as Record<symbol, unknown>)[EPOCH_SECONDS] === true)
      smithyContextOf(context)[EPOCH_SECONDS] = true;
    // Endpoint, path and headers exactly as the SDK makes them (an empty input costs nothing); the body is ours.
    const request = await base.serializeRequest.call(lean, operation, {}, context);
    request.body = body;
    return request;
  };
  lean.deserializeResponse = async (operation, context, response) => {
    const decode = operation.name === undefined ? undefined : DECODERS[operation.name];
    if (!decode || response.statusCode < 200 || response.statusCode >= 300)
      return base.deserializeResponse.call(lean, operation, context, response);
    const bytes = await collectBody(response.body, context as Parameters<typeof collectBody>[1]);
    const decoded =
      decode === decodeGetMetricDataOutput && smithyContextOf(context)[EPOCH_SECONDS] === true
        ? decodeGetMetricDataOutputInSeconds(bytes)
        : decode(bytes);
    if (decoded === undefined) {
      // Not the shape expected: the SDK reads the same bytes, with its own rules.
      response.body = bytes;
      return base.deserializeResponse.call(lean, operation, context, response);
    }
    // $metadata (request id, status) and header handling exactly as the SDK's, from an empty body.
    response.body = new Uint8Array(0);
    const envelope = (await base.deserializeResponse.call(lean, operation, context, response)) as object;
    return Object.assign(envelope, decoded);
  };
  config.protocol = lean;
}

const LEAN = Symbol('dogwatch.leanCloudWatchCodec');

/**
 * Set (true) on a GetMetricData input whose caller takes the results' timestamps as the wire's epoch
 * seconds (numbers) instead of Dates: requestMetricData, which needs milliseconds anyway, so that a run
 * does not allocate a Date per point. Only this codec honours it; when the SDK decodes instead (an
 * unexpected shape), the caller gets Dates and must accept both.
 */
export const EPOCH_SECONDS = Symbol('dogwatch.getMetricDataEpochSeconds');

/** The per-call smithy context (`__smithy_context`), created if the SDK did not. */
function smithyContextOf(context: unknown): Record<symbol, unknown> {
  const holder = context as { __smithy_context?: Record<symbol, unknown> };
  return (holder.__smithy_context ??= {});
}
const JSON_1_0 = 'aws.protocols#awsJson1_0';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * GetMetricDataOutput from the response bytes, as the SDK would build it (null members left out,
 * timestamps as Dates, unknown members dropped), or undefined for anything not exactly the expected
 * shape (the SDK then decides).
 */
export function decodeGetMetricDataOutput(bytes: Uint8Array): Record<string, unknown> | undefined {
  return decodeOutput(bytes, GET_METRIC_DATA_OUTPUT);
}

/**
 * GetMetricDataOutput for a caller that asked for epoch seconds (EPOCH_SECONDS): the results are the
 * parsed JSON objects as they are (Timestamps as the wire's numbers, members unchecked: the caller
 * checks what it reads), only the envelope is checked; undefined when it is not as expected.
 */
export function decodeGetMetricDataOutputInSeconds(bytes: Uint8Array): Record<string, unknown> | undefined {
  const parsed = parseJson(bytes);
  if (!isPlainRecord(parsed)) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(parsed)) {
    const value = parsed[key]!;
    if (value === null) continue;
    if (key === 'MetricDataResults') {
      if (!Array.isArray(value)) return undefined;
      for (const item of value) if (!isPlainRecord(item)) return undefined;
      out.MetricDataResults = value;
    } else {
      const decode = GET_METRIC_DATA_OUTPUT.get(key);
      if (decode === undefined) continue;
      const decoded = decode(value);
      if (decoded === undefined) return undefined;
      out[key] = decoded;
    }
  }
  return out;
}

/**
 * ListMetricsOutput from the response bytes, as the SDK would build it (null members left out, unknown
 * members dropped), or undefined for anything not exactly the expected shape (the SDK then decides).
 */
export function decodeListMetricsOutput(bytes: Uint8Array): Record<string, unknown> | undefined {
  return decodeOutput(bytes, LIST_METRICS_OUTPUT);
}

/** Decoders of an output's members: the member's value, or undefined when it is not as expected. */
type MemberDecoders = ReadonlyMap<string, (value: Json) => unknown>;

const decodeString = (value: Json): string | undefined => (typeof value === 'string' ? value : undefined);

// Maps, not object literals: a member named like an Object.prototype property must not find a decoder.
const GET_METRIC_DATA_OUTPUT: MemberDecoders = new Map<string, (value: Json) => unknown>([
  ['MetricDataResults', (value) => decodeList(value, decodeResult)],
  ['NextToken', decodeString],
  ['Messages', (value) => decodeMessages(value)],
]);
const LIST_METRICS_OUTPUT: MemberDecoders = new Map<string, (value: Json) => unknown>([
  ['Metrics', (value) => decodeList(value, (item) => decodeStrings(item, METRIC_MEMBERS))],
  ['NextToken', decodeString],
  ['OwningAccounts', (value) => decodeList(value, decodeString)],
]);

function decodeOutput(bytes: Uint8Array, members: MemberDecoders): Record<string, unknown> | undefined {
  const parsed = parseJson(bytes);
  if (!isPlainRecord(parsed)) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(parsed)) {
    const value = parsed[key]!;
    const decode = members.get(key);
    if (value === null || decode === undefined) continue;
    const decoded = decode(value);
    if (decoded === undefined) return undefined;
    out[key] = decoded;
  }
  return out;
}

const METRIC_MEMBERS = ['Namespace', 'MetricName', 'Dimensions'] as const;
const DIMENSION_MEMBERS = ['Name', 'Value'] as const;

/** Every item decoded, or undefined if the value is not a list or one item is not as expected. */
function decodeList<T>(value: Json, decodeItem: (item: Json) => T | undefined): T[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out = new Array<T>(value.length);
  for (let i = 0; i < value.length; i++) {
    const decoded = decodeItem(value[i]!);
    if (decoded === undefined) return undefined;
    out[i] = decoded;
  }
  return out;
}

/** A record of string members (Dimensions: a list of Name/Value records), nulls and others left out. */
function decodeStrings(
  item: Json,
  members: readonly string[],
): Record<string, string | Record<string, unknown>[]> | undefined {
  if (!isPlainRecord(item)) return undefined;
  const out: Record<string, string | Record<string, unknown>[]> = {};
  for (const key of members) {
    const value = item[key];
    if (value === undefined || value === null) continue;
    if (key === 'Dimensions') {
      const dimensions = decodeList(value, (d) => decodeStrings(d, DIMENSION_MEMBERS));
      if (dimensions === undefined) return undefined;
      out.Dimensions = dimensions;
    } else if (typeof value === 'string') out[key] = value;
    else return undefined;
  }
  return out;
}

function parseJson(bytes: Uint8Array): Json | undefined {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Json;
  } catch {
    return undefined;
  }
}

function decodeResult(item: Json): Record<string, unknown> | undefined {
  if (!isPlainRecord(item)) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(item)) {
    const value = item[key]!;
    if (value === null) continue;
    switch (key) {
      case 'Id':
      case 'Label':
      case 'StatusCode':
        if (typeof value !== 'string') return undefined;
        out[key] = value;
        break;
      case 'Timestamps': {
        if (!Array.isArray(value)) return undefined;
        const dates: Date[] = new Array<Date>(value.length);
        for (let i = 0; i < value.length; i++) {
          const t = value[i];
          if (typeof t !== 'number' || !Number.isFinite(t)) return undefined;
          dates[i] = new Date(Math.round(t * 1000));
        }
        out.Timestamps = dates;
        break;
      }
      case 'Values': {
        if (!Array.isArray(value)) return undefined;
        for (const v of value) if (typeof v !== 'number') return undefined;
        out.Values = value;
        break;
      }
      case 'Messages': {
        const messages = decodeMessages(value);
        if (messages === undefined) return undefined;
        out.Messages = messages;
        break;
      }
      default:
      // A member this codec does not know: dropped, as the SDK drops members not in its model.
    }
  }
  return out;
}

function decodeMessages(value: Json): Record<string, unknown>[] | undefined {
  return decodeList(value, (m) => decodeStrings(m, MESSAGE_MEMBERS));
}
const MESSAGE_MEMBERS = ['Code', 'Value'] as const;

/** A JSON object, not a list, without the `__type` member (the SDK treats that one specially). */
function isPlainRecord(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !('__type' in value);
}
