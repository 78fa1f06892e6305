import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { ListRegionsCommand } from '@aws-sdk/client-account';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { StandardRetryStrategy } from '@smithy/core/retry';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SMITHY_CONTEXT_KEY, type AwsCredentialIdentity, type Pluggable } from '@smithy/types';
import { SystemClock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import type {
  AnyMiddlewareStack,
  AwsClientDeclaration,
  AwsSdkClient,
  AwsSdkClientConfig,
} from './aws-api-declaration.js';
import type { AwsApiRegistry } from './aws-api-registry.js';
import { isAccessDenied, PermissionDeniedError } from './permission-denied.js';
import { ServerTime } from './server-time.js';
import { awsCallScope, classifyAwsError, type CallOutcome } from './aws-call-stats.js';
import { CORE_AWS_CLIENTS } from './core-aws-apis.js';
import {
  isExpiredCredentialsError,
  refreshableCredentials,
  type RefreshableCredentials,
} from './refreshable-credentials.js';
import { ApiRateLimiter } from './token-bucket.js';

/** Where and as whom an instance talks to AWS. */
export interface AwsAccess {
  readonly roleArn?: string;
  readonly externalId?: string;
  /** Overrides every service endpoint (the emulator, a VPC endpoint proxy). */
  readonly endpointUrl?: string;
}

/** The identity an instance's options name (`role_arn`, `external_id`, `endpoint_url`). */
export function awsAccessOf(options: {
  readonly role_arn?: string;
  readonly external_id?: string;
  readonly endpoint_url?: string;
}): AwsAccess {
  return { roleArn: options.role_arn, externalId: options.external_id, endpointUrl: options.endpoint_url };
}

export interface AwsClientOptions {
  /** Attempts per call, the SDK's own retry loop (full-jitter exponential backoff). The only retry layer. */
  readonly maxAttempts: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export const DEFAULT_AWS_CLIENT_OPTIONS: AwsClientOptions = {
  maxAttempts: 4,
  connectTimeoutMs: 3_000,
  requestTimeoutMs: 20_000,
};

type CoreClientId = keyof typeof CORE_AWS_CLIENTS;
type ClientOf<D> = D extends AwsClientDeclaration<infer C> ? C : never;

/**
 * Builds and caches the declared SDK clients (see AwsApiRegistry) per (credentials, endpoint, region,
 * client). Every client:
 * - retries inside the SDK only (StandardRetryStrategy), so retries never multiply with ours;
 * - takes a token from the process-wide bucket of its declared quota, per (account, region), before
 *   every attempt;
 * - counts each attempt and its outcome into the calling instance's AwsCallStats;
 * - turns IAM refusals into PermissionDeniedError naming the declared action.
 */
export class AwsClientFactory {
  private readonly clients = new Map<string, AwsSdkClient>();
  private readonly limiter: ApiRateLimiter;
  private readonly credentialProviders = new Map<string, RefreshableCredentials>();
  private readonly accountIds = new Map<string, Promise<string>>();
  private readonly regionLists = new Map<string, Promise<string[]>>();
  private readonly requestHandler: NodeHttpHandler;
  private baseCredentials: RefreshableCredentials | undefined;
  private readonly accessKeys = new WeakMap<AwsAccess, string>();

  constructor(
    /** The AWS APIs core and the bound checks declared: the only clients this factory builds. */
    readonly apis: AwsApiRegistry,
    private readonly options: AwsClientOptions = DEFAULT_AWS_CLIENT_OPTIONS,
    /** At debug level, one line per HTTP attempt (see logAttempt); nothing otherwise. */
    private readonly logger?: Logger,
    /** Fed with the Date of every AWS answer: collection's "now" (see server-time.ts). */
    readonly serverTime: ServerTime = new ServerTime(new SystemClock()),
  ) {
    this.limiter = new ApiRateLimiter(apis);
    this.requestHandler = new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
      connectionTimeout: options.connectTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      // Without it the handler only logs a warning and the call hangs: a stuck socket must become a
      // retryable TimeoutError.
      throwOnRequestTimeout: true,
    });
  }

  /**
   * Stable key of everything that decides which credentials and endpoints are used (role, external
   * ID, endpoint): caches (credentials, clients, account IDs) and rate-limit scopes are per key, so two
   * instances that differ in any of it never share a session. Hashed: the external ID is a secret.
   */
  accessKey(access: AwsAccess): string {
    let key = this.accessKeys.get(access);
    if (key === undefined) {
      const identity = JSON.stringify([
        access.roleArn ?? null,
        access.externalId ?? null,
        access.endpointUrl ?? null,
      ]);
      key = createHash('sha256').update(identity).digest('base64url').slice(0, 22);
      this.accessKeys.set(access, key);
    }
    return key;
  }

  private credentials(access: AwsAccess): RefreshableCredentials {
    const key = this.accessKey(access);
    let provider = this.credentialProviders.get(key);
    if (!provider) {
      const base = (this.baseCredentials ??= refreshableCredentials(fromNodeProviderChain()));
      if (access.roleArn) {
        const assumeRole = fromTemporaryCredentials({
          masterCredentials: base,
          params: {
            RoleArn: access.roleArn,
            ExternalId: access.externalId,
            RoleSessionName: 'dogwatch',
            DurationSeconds: 3600,
          },
          clientConfig: {
            region: 'us-east-1',
            ...(access.endpointUrl ? { endpoint: access.endpointUrl } : {}),
            requestHandler: this.requestHandler,
          },
        });
        provider = refreshableCredentials(async (options) => {
          try {
            return await assumeRole(options);
          } catch (error) {
            // STS refused the credentials we assume the role with: fetch those again next time.
            if (isExpiredCredentialsError(error)) base.rejected(undefined);
            throw error;
          }
        });
      } else {
        provider = base;
      }
      this.credentialProviders.set(key, provider);
    }
    return provider;
  }

  /**
   * The client of `declared` for this access and region: a check passes its own declaration (from its
   * awsApis), core names its own clients by id (`'cloudwatch'`, `'tagging'`, `'sts'`, `'account'`).
   * Throws if no bound declaration declares the client.
   */
  client<Id extends CoreClientId>(
    id: Id,
    access: AwsAccess,
    region: string,
  ): ClientOf<(typeof CORE_AWS_CLIENTS)[Id]>;
  client<C extends AwsSdkClient>(declared: AwsClientDeclaration<C>, access: AwsAccess, region: string): C;
  client(which: CoreClientId | AwsClientDeclaration, access: AwsAccess, region: string): AwsSdkClient {
    const declared = this.apis.declaredClient(typeof which === 'string' ? CORE_AWS_CLIENTS[which] : which);
    const key = `${this.accessKey(access)}|${region}|${declared.id}`;
    const cached = this.clients.get(key);
    if (cached) return cached;
    const config: AwsSdkClientConfig = {
      region,
      credentials: this.credentials(access),
      ...(access.endpointUrl ? { endpoint: access.endpointUrl } : {}),
      requestHandler: this.requestHandler,
      retryStrategy: new StandardRetryStrategy(this.options.maxAttempts),
    };
    const client = new declared.sdkClient(config);
    declared.customize?.(client);
    const stack: AnyMiddlewareStack = client.middlewareStack;
    stack.use(this.accountingPlugin(this.accessKey(access), region, declared, config.credentials));
    this.clients.set(key, client);
    return client;
  }

  /** The account of the credentials, from STS GetCallerIdentity, cached for the process lifetime. */
  accountId(access: AwsAccess): Promise<string> {
    const key = this.accessKey(access);
    let id = this.accountIds.get(key);
    if (!id) {
      id = this.client('sts', access, 'us-east-1')
        .send(new GetCallerIdentityCommand({}), { abortSignal: awsCallScope.getStore()?.signal })
        .then((r) => {
          if (!r.Account) throw new Error('STS GetCallerIdentity returned no Account');
          return r.Account;
        });
      // A failure is not cached: the next run asks again.
      id.catch(() => this.accountIds.delete(key));
      this.accountIds.set(key, id);
    }
    return id;
  }

  /** Regions enabled for the account (Account ListRegions), for `regions: all`. Cached per identity. */
  enabledRegions(access: AwsAccess): Promise<string[]> {
    const key = this.accessKey(access);
    let regions = this.regionLists.get(key);
    if (!regions) {
      regions = (async () => {
        const client = this.client('account', access, 'us-east-1');
        const found: string[] = [];
        let nextToken: string | undefined;
        do {
          const page = await client.send(
            new ListRegionsCommand({
              RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT'],
              MaxResults: 50,
              NextToken: nextToken,
            }),
            { abortSignal: awsCallScope.getStore()?.signal },
          );
          for (const r of page.Regions ?? []) if (r.RegionName) found.push(r.RegionName);
          nextToken = page.NextToken || undefined;
        } while (nextToken);
        return found.sort();
      })();
      regions.catch(() => this.regionLists.delete(key));
      this.regionLists.set(key, regions);
    }
    return regions;
  }

  private accountingPlugin(
    scopeKey: string,
    region: string,
    declared: AwsClientDeclaration,
    credentials: RefreshableCredentials,
  ): Pluggable<object, object> {
    const { service } = declared;
    const apis = this.apis;
    const limiter = this.limiter;
    const logger = this.logger;
    const serverTime = this.serverTime;
    const maxAttempts = this.options.maxAttempts;
    return {
      applyToStack(stack) {
        // Outside the retry loop: one per logical call, so retries = attempts - calls.
        stack.add(
          (next, context) => async (args) => {
            const scope = awsCallScope.getStore();
            if (scope) scope.stats.calls++;
            try {
              return await next(args);
            } catch (error) {
              if (isAccessDenied(error)) {
                const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
                throw new PermissionDeniedError(apis.iamActionOf(declared, operation), error);
              }
              // AWS says the credentials expired before the time they announced: drop them for
              // every client of this identity and make the call once more with fresh ones. The
              // SDK resolves credentials once per call, outside its retry loop, so this is the
              // layer that can.
              if (!isExpiredCredentialsError(error) || !credentials.rejected(identityUsed(context)))
                throw error;
              return next(args);
            }
          },
          { step: 'initialize', name: 'dogwatchCallCounter' },
        );
        stack.add(
          (next, context) => async (args) => {
            const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
            const scope = awsCallScope.getStore();
            await limiter.take(scopeKey, region, declared.id, operation, scope?.signal);
            const started = performance.now();
            const attempt = { service, operation, region, request: args.request, started, maxAttempts };
            try {
              const result = await next(args);
              serverTime.observe(dateOf(result.response));
              scope?.stats.record(operation, 'ok');
              if (logger?.isDebugEnabled()) logAttempt(logger, attempt, 'ok');
              return result;
            } catch (error) {
              serverTime.observe(dateOf((error as { $response?: unknown }).$response));
              const outcome = classifyAwsError(error);
              scope?.stats.record(operation, outcome);
              if (logger?.isDebugEnabled()) logAttempt(logger, attempt, outcome, error);
              throw error;
            }
          },
          // Inside the SDK's retry loop (which is `finalizeRequest`/high), so every attempt is
          // rate-limited and counted, retries included.
          { step: 'finalizeRequest', priority: 'low', name: 'dogwatchRateLimitAndAccounting' },
        );
      },
    };
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
    this.requestHandler.destroy();
  }
}

interface Attempt {
  readonly service: string;
  readonly operation: string;
  readonly region: string;
  /** The signed HTTP request; only its `amz-sdk-request` header (attempt number) is read. */
  readonly request: unknown;
  readonly started: number;
  readonly maxAttempts: number;
}

/**
 * `AWS monitoring GetMetricData us-east-1 attempt 1/4: ok in 34 ms`. Names only what identifies the call
 * and how it went (error name and HTTP status): never a header, a body or an error message, so never a
 * credential or a session token.
 */
function logAttempt(logger: Logger, attempt: Attempt, outcome: CallOutcome, error?: unknown): void {
  const headers = (attempt.request as { headers?: Record<string, string> } | undefined)?.headers;
  // The SDK numbers attempts in this header (its `max=` is the client default, not our retry strategy's).
  const counter = /attempt=(\d+)/.exec(headers?.['amz-sdk-request'] ?? '');
  const which = counter ? ` attempt ${counter[1]}/${attempt.maxAttempts}` : '';
  const failure = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | undefined;
  const detail =
    failure === undefined
      ? ''
      : ` (${typeof failure.name === 'string' ? failure.name : 'error'}` +
        `${typeof failure.$metadata?.httpStatusCode === 'number' ? `, HTTP ${failure.$metadata.httpStatusCode}` : ''})`;
  logger.debug(
    `AWS ${attempt.service} ${attempt.operation} ${attempt.region}${which}: ${outcome}${detail} in ` +
      `${Math.round(performance.now() - attempt.started)} ms`,
  );
}

/** The Date header of a raw HTTP response, if it has one. */
function dateOf(response: unknown): string | undefined {
  const headers = (response as { headers?: Record<string, string | undefined> } | undefined)?.headers;
  return headers?.date ?? headers?.Date;
}

/** The credentials the SDK signed a call with (its auth-scheme middleware records them in the context). */
function identityUsed(context: object): AwsCredentialIdentity | undefined {
  const smithy = (context as Record<string, unknown>)[SMITHY_CONTEXT_KEY] as
    { selectedHttpAuthScheme?: { identity?: AwsCredentialIdentity } } | undefined;
  return smithy?.selectedHttpAuthScheme?.identity;
}
