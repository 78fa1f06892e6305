import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { StandardRetryStrategy } from '@smithy/core/retry';
import type { Pluggable } from '@smithy/types';
import type { RefreshableCredentials } from './refreshable-credentials.js';

/**
 * What the client factory needs of an AWS SDK v3 client: a middleware stack to add dogwatch's own
 * middleware to, and `destroy`. Each SDK client types its stack by its own inputs and outputs (invariant),
 * so the parameter is `never` here: any client fits, and the factory adds its middleware, which works on
 * every input and output, through `AnyMiddlewareStack`.
 */
export interface AwsSdkClient {
  readonly middlewareStack: { use(pluggable: never): void };
  destroy(): void;
}

/** How the factory sees a client's stack: it adds middleware that works on any input and output. */
export interface AnyMiddlewareStack {
  use(pluggable: Pluggable<object, object>): void;
}

/** The configuration every client the factory builds gets (credentials, endpoint, retries, HTTP). */
export interface AwsSdkClientConfig {
  readonly region: string;
  readonly credentials: RefreshableCredentials;
  readonly endpoint?: string;
  readonly requestHandler: NodeHttpHandler;
  readonly retryStrategy: StandardRetryStrategy;
}

/**
 * One AWS SDK client a check (or core) uses, e.g. `{ id: 'lambda', sdkClient: LambdaClient, ... }`. Code
 * asks the factory for it by this object: `clients.client(lambdaClient, access, region)`.
 */
export interface AwsClientDeclaration<C extends AwsSdkClient = AwsSdkClient> {
  /**
   * Unique in the process (`lambda`, `apigatewayv2`): the client cache key. Two declarations with the same
   * id MUST be the same client (same SDK class, service and IAM prefix).
   */
  readonly id: string;
  readonly sdkClient: new (config: AwsSdkClientConfig) => C;
  /** The SDK's signing name (`monitoring`, `lambda`, `apigateway`), as debug logs name the service. */
  readonly service: string;
  /** IAM's prefix for the service's actions (`cloudwatch`, `tag`, `lambda`). */
  readonly iamPrefix: string;
  /**
   * Adjusts a new client before dogwatch's middleware is added (CloudWatch's lean codec). A method, so
   * that a declaration of any client is an `AwsClientDeclaration` (methods are bivariant).
   */
  customize?(client: C): void;
}

/**
 * A request budget, per account (credentials) and region, that one or more operations share. MUST cite
 * the published quota in a comment, or say why the rate is ours where AWS publishes none.
 */
export interface AwsQuotaDeclaration {
  /** Unique in the process (`lambda`, `cloudwatch:GetMetricData`): names the bucket and its override. */
  readonly name: string;
  /** The clients whose calls draw from the budget (API Gateway v1 and v2 share one). */
  readonly clients: readonly AwsClientDeclaration[];
  /** The operations that draw from it; default every operation of `clients`. */
  readonly operations?: readonly string[];
  readonly requestsPerSecond: number;
}

/** One IAM action dogwatch needs, one row of iam/README.md, part of one statement of the policy. */
export interface IamActionDeclaration {
  /** `lambda:ListFunctions`, `apigateway:GET`. */
  readonly action: string;
  /** The client whose calls need it. */
  readonly client: AwsClientDeclaration;
  /** The operations that need it; default the action's name (`lambda:ListFunctions` → ListFunctions). */
  readonly operations?: readonly string[];
  /** The policy statement's Sid. Actions of one statement MUST declare the same resources. */
  readonly statement: string;
  /** Default `['*']`. */
  readonly resources?: readonly string[];
  /**
   * The instance option that makes dogwatch call it (`regions: all`, `role_arn`); absent: every run of the
   * check (or, for core, of every check) calls it.
   */
  readonly option?: string;
  /** When and why it is called, one line for iam/README.md. */
  readonly purpose: string;
}

/**
 * The AWS APIs a check (or core) calls: the clients it asks the factory for, the quotas its calls draw
 * from and the IAM actions they need. The client factory, the rate limiter, iam/dogwatch-policy.json and
 * its README table are derived from these declarations (see AwsApiRegistry and iam-policy.ts).
 */
export interface AwsApiDeclaration {
  readonly clients: readonly AwsClientDeclaration[];
  readonly quotas: readonly AwsQuotaDeclaration[];
  readonly iamActions: readonly IamActionDeclaration[];
}

/** A declaration with who made it: `core`, or the check's name. */
export interface OwnedAwsApiDeclaration extends AwsApiDeclaration {
  readonly owner: string;
}
