/** One decoded request, as every emulated service handler sees it. */
import type { IncomingHttpHeaders } from 'node:http';
import { AwsError, type WireProtocol } from './wire.js';

export type ServiceName =
  | 'cloudwatch'
  | 'lambda'
  | 'tagging'
  | 'apigateway'
  | 'apigatewayv2'
  | 'cloudtrail'
  | 'sts'
  | 'account'
  | 'sqs'
  | 'logs';

export interface Call {
  readonly service: ServiceName;
  /** The API operation, e.g. `GetMetricData`. */
  readonly operation: string;
  /** The IAM action it needs, e.g. `cloudwatch:GetMetricData`, `apigateway:GET`. */
  readonly iamAction: string;
  readonly protocol: WireProtocol;
  readonly region: string;
  readonly account: string;
  readonly accessKeyId: string;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Decoded `{Label}` segments of a REST path, in order. */
  readonly pathParams: readonly string[];
}

export interface HandlerResult {
  /** Serialised body (JSON or XML). */
  readonly body: string;
  readonly status?: number;
  /** CloudWatch billing: MetricDataQueries in the call. */
  readonly metricsRequested?: number;
  readonly datapoints?: number;
}

export type Handler = (call: Call) => HandlerResult;

/** Typed readers for decoded JSON input; a wrong type is the validation error AWS returns. */
export const input = {
  str(obj: Record<string, unknown>, key: string): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string')
      throw new AwsError('ValidationException', `${key} must be a string`, 400, 'ValidationError');
    return v;
  },
  num(obj: Record<string, unknown>, key: string): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new AwsError('ValidationException', `${key} must be a number`, 400, 'ValidationError');
    return v;
  },
  list(obj: Record<string, unknown>, key: string): Record<string, unknown>[] {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v))
      throw new AwsError('ValidationException', `${key} must be a list`, 400, 'ValidationError');
    return v.map((item) =>
      typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {},
    );
  },
  strings(obj: Record<string, unknown>, key: string): string[] {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v))
      throw new AwsError('ValidationException', `${key} must be a list`, 400, 'ValidationError');
    return v.map(String);
  },
  obj(obj: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
    const v = obj[key];
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  },
};
