/**
 * AwsEmulator: one HTTP port serving CloudWatch, CloudWatch Logs (FilterLogEvents), Lambda, the Tagging
 * API, API Gateway v1/v2, CloudTrail, STS, the Account API and SQS (ListQueues, ListQueueTags) to the real AWS SDK v3 clients.
 *
 * Dispatch: `X-Amz-Target` (JSON protocols), a form body with `Action` (the awsQuery protocol:
 * CloudWatch for `Version=2010-08-01`, else STS), else the REST path. CloudWatch answers both JSON 1.0
 * and the query protocol (query-protocol.ts), so every AWS CLI version and older SDKs work. Region and access key come from the SigV4 `Authorization` header's credential scope;
 * signatures are not verified. The account is the access key's (World.accountForAccessKey).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SystemClock, type Clock } from '../core/clock.js';
import { AccountService } from './account.js';
import { Accounting, type Outcome } from './accounting.js';
import { ApiGatewayService } from './apigateway.js';
import type { Call, HandlerResult, ServiceName } from './call.js';
import { CloudTrailService } from './cloudtrail.js';
import { CloudWatchService } from './cloudwatch.js';
import {
  DEFAULT_QUOTAS,
  FaultInjector,
  QuotaBuckets,
  quotaName,
  type FaultPlan,
  type FaultTarget,
} from './faults.js';
import { LambdaService } from './lambda.js';
import { WorldLogs } from './log-groups.js';
import { CloudWatchLogsService } from './logs.js';
import { SqsService } from './sqs.js';
import { CLOUDWATCH_QUERY_VERSION, decodeQueryInput, encodeQueryOutput } from './query-protocol.js';
import { StsService } from './sts.js';
import { TaggingService } from './tagging.js';
import { AwsError, errorResponse, newRequestId, type WireProtocol, type WireResponse } from './wire.js';
import { SMALL_WORLD, World, type PublicationDelay, type WorldOptions } from './world.js';

export interface AwsEmulatorOptions {
  /** `'small'` (default) or explicit world options. */
  world?: 'small' | WorldOptions;
  /** Decides which points are published; default the system clock. */
  clock?: Clock;
  /** Judges STS session expiry; default the system clock (the SDK refreshes on real time). */
  credentialClock?: Clock;
  /** Default 0 = a random free port. Always bound to 127.0.0.1. */
  port?: number;
  /** Fixed latency added to every call. */
  latencyMs?: number;
  /** Default base 60 s, jitter up to 60 s. */
  publicationDelay?: PublicationDelay;
  /** Per-quota rates (see DEFAULT_QUOTAS keys) overriding defaults; `false` disables quotas. */
  quotas?: Partial<Record<string, number>> | false;
  /**
   * IAM actions the caller's policy denies (`tag:GetResources`, `lambda:ListFunctions` …): such calls
   * get the service's AccessDenied error naming the action, as AWS answers.
   */
  deniedActions?: readonly string[];
  /** False: Lambda ListFunctions ignores MasterRegion (lists no replicas), as moto does. Default true. */
  edgeReplicasListed?: boolean;
  /** Overrides the world's seed. */
  seed?: number;
}

interface Route {
  service: ServiceName;
  operation: string;
  protocol: WireProtocol;
  iamAction: string;
  pathParams: string[];
}

const TARGETS: { prefix: string; service: ServiceName; protocol: WireProtocol; iam: string }[] = [
  { prefix: 'GraniteServiceVersion20100801', service: 'cloudwatch', protocol: 'json1.0', iam: 'cloudwatch' },
  { prefix: 'ResourceGroupsTaggingAPI_20170126', service: 'tagging', protocol: 'json1.1', iam: 'tag' },
  { prefix: 'CloudTrail_20131101', service: 'cloudtrail', protocol: 'json1.1', iam: 'cloudtrail' },
  { prefix: 'AmazonSQS', service: 'sqs', protocol: 'json1.0', iam: 'sqs' },
  { prefix: 'Logs_20140328', service: 'logs', protocol: 'json1.1', iam: 'logs' },
];

const REST_ROUTES: { pattern: RegExp; service: ServiceName; operation: string; iamAction?: string }[] = [
  { pattern: /^\/2015-03-31\/functions$/, service: 'lambda', operation: 'ListFunctions' },
  { pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases$/, service: 'lambda', operation: 'ListAliases' },
  { pattern: /^\/2017-03-31\/tags\/([^/]+)$/, service: 'lambda', operation: 'ListTags' },
  { pattern: /^\/restapis$/, service: 'apigateway', operation: 'GetRestApis' },
  { pattern: /^\/restapis\/([^/]+)\/stages$/, service: 'apigateway', operation: 'GetStages' },
  { pattern: /^\/tags\/([^/]+)$/, service: 'apigateway', operation: 'GetTags' },
  { pattern: /^\/v2\/apis$/, service: 'apigatewayv2', operation: 'GetApis' },
  { pattern: /^\/v2\/apis\/([^/]+)\/stages$/, service: 'apigatewayv2', operation: 'GetStages' },
  { pattern: /^\/v2\/tags\/([^/]+)$/, service: 'apigatewayv2', operation: 'GetTags' },
];

function route(
  method: string,
  rawPath: string,
  headers: IncomingMessage['headers'],
  body: string,
): Route | undefined {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') {
    const dot = target.lastIndexOf('.');
    const prefix = target.slice(0, dot);
    const operation = target.slice(dot + 1);
    const t = TARGETS.find((x) => prefix.endsWith(x.prefix));
    return (
      t && {
        service: t.service,
        operation,
        protocol: t.protocol,
        iamAction: `${t.iam}:${operation}`,
        pathParams: [],
      }
    );
  }
  if (String(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(body);
    const action = form.get('Action') ?? '';
    const cloudwatch = form.get('Version') === CLOUDWATCH_QUERY_VERSION;
    return {
      service: cloudwatch ? 'cloudwatch' : 'sts',
      operation: action,
      protocol: 'query',
      iamAction: `${cloudwatch ? 'cloudwatch' : 'sts'}:${action}`,
      pathParams: [],
    };
  }
  const path = rawPath.length > 1 ? rawPath.replace(/\/$/, '') : rawPath;
  if (method === 'POST' && path === '/listRegions') {
    return {
      service: 'account',
      operation: 'ListRegions',
      protocol: 'rest-json',
      iamAction: 'account:ListRegions',
      pathParams: [],
    };
  }
  for (const r of REST_ROUTES) {
    const match = r.pattern.exec(path);
    if (!match || method !== 'GET') continue;
    const iamAction = r.service === 'lambda' ? `lambda:${r.operation}` : 'apigateway:GET';
    return {
      service: r.service,
      operation: r.operation,
      protocol: 'rest-json',
      iamAction,
      pathParams: match.slice(1).map((p) => decodeURIComponent(p)),
    };
  }
  return undefined;
}

/** `Credential=AKID/20250101/us-east-1/monitoring/aws4_request` → key and region. */
function credentialScope(
  authorization: string | undefined,
): { accessKeyId: string; region: string } | undefined {
  const match = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return match ? { accessKeyId: match[1]!, region: match[2]! } : undefined;
}

/** AWS's answer to a call the caller's IAM policy does not allow. */
function accessDenied(service: ServiceName, action: string, account: string): AwsError {
  const message =
    `User: arn:aws:iam::${account}:user/dogwatch is not authorized to perform: ${action} ` +
    `because no identity-based policy allows the ${action} action`;
  switch (service) {
    case 'sts':
      return new AwsError('AccessDenied', message, 403);
    case 'tagging':
      return new AwsError('AccessDeniedException', message, 400);
    case 'cloudwatch':
      return new AwsError('AccessDeniedException', message, 403, 'AccessDenied');
    default:
      return new AwsError('AccessDeniedException', message, 403);
  }
}

function throttlingError(service: ServiceName): AwsError {
  switch (service) {
    case 'cloudwatch':
      return new AwsError('ThrottlingException', 'Rate exceeded', 400, 'Throttling');
    case 'lambda':
      return new AwsError('TooManyRequestsException', 'Rate exceeded', 429, 'TooManyRequestsException', {
        Type: 'User',
        Reason: 'CallerRateLimitExceeded',
      });
    case 'tagging':
      return new AwsError('ThrottledException', 'Rate exceeded', 400);
    case 'apigateway':
    case 'apigatewayv2':
      return new AwsError('TooManyRequestsException', 'Too Many Requests', 429);
    case 'cloudtrail':
      return new AwsError('ThrottlingException', 'Rate exceeded', 400);
    case 'sts':
      return new AwsError('Throttling', 'Rate exceeded', 400);
    case 'account':
      return new AwsError('TooManyRequestsException', 'Too Many Requests', 429);
    case 'sqs':
      return new AwsError('RequestThrottled', 'Rate exceeded', 400);
    case 'logs':
      return new AwsError('ThrottlingException', 'Rate exceeded', 400);
  }
}

function isThrottling(error: AwsError): boolean {
  return [
    'ThrottlingException',
    'TooManyRequestsException',
    'ThrottledException',
    'Throttling',
    'RequestThrottled',
  ].includes(error.code);
}

export class AwsEmulator {
  readonly world: World;
  /** The world's CloudWatch Logs: groups and events (what FilterLogEvents reads). */
  readonly logs: WorldLogs;
  readonly clock: Clock;
  readonly accounting = new Accounting();
  readonly port: number;
  private readonly latencyMs: number;
  private readonly quotas: QuotaBuckets | undefined;
  private faults = new FaultInjector();
  private deniedActions: Set<string>;
  private readonly sts: StsService;
  private readonly handlers: Record<ServiceName, (call: Call) => HandlerResult>;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<() => void>();
  private endpointUrl: string | undefined;

  constructor(options: AwsEmulatorOptions = {}) {
    this.deniedActions = new Set(options.deniedActions ?? []);
    const given = options.clock ?? new SystemClock();
    // AWS's clock is true time: a test that steps the daemon's wall clock (ManualClock.step) does not
    // step AWS's. The monotonic reading is that true time.
    this.clock = { now: () => given.monotonic(), monotonic: () => given.monotonic() };
    const worldOptions =
      options.world === undefined || options.world === 'small' ? SMALL_WORLD : options.world;
    this.world = new World({
      ...worldOptions,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      createdAtMs: worldOptions.createdAtMs ?? Math.floor(this.clock.now() / 60_000) * 60_000,
    });
    if (options.publicationDelay) this.world.publicationDelay = { ...options.publicationDelay };
    this.port = options.port ?? 0;
    this.latencyMs = options.latencyMs ?? 0;
    this.quotas =
      options.quotas === false
        ? undefined
        : new QuotaBuckets({ ...DEFAULT_QUOTAS, ...stripUndefined(options.quotas ?? {}) });
    this.sts = new StsService(this.world, options.credentialClock ?? new SystemClock());
    const cloudwatch = new CloudWatchService(this.world, this.clock);
    const account = new AccountService(this.world);
    const lambda = new LambdaService(this.world);
    lambda.listsEdgeReplicas = options.edgeReplicasListed ?? true;
    const tagging = new TaggingService(this.world);
    const apigateway = new ApiGatewayService(this.world);
    const cloudtrail = new CloudTrailService(this.world, this.clock);
    const sqs = new SqsService(this.world);
    this.logs = new WorldLogs(this.world);
    const logs = new CloudWatchLogsService(this.logs, this.clock);
    this.handlers = {
      cloudwatch: (c) => cloudwatch.handle(c),
      lambda: (c) => lambda.handle(c),
      tagging: (c) => tagging.handle(c),
      apigateway: (c) => apigateway.handle(c),
      apigatewayv2: (c) => apigateway.handle(c),
      cloudtrail: (c) => cloudtrail.handle(c),
      sts: (c) => this.sts.handle(c),
      account: (c) => account.handle(c),
      sqs: (c) => sqs.handle(c),
      logs: (c) => logs.handle(c),
    };
  }

  /** Starts listening on 127.0.0.1; resolves to the endpoint URL. Idempotent. */
  async start(): Promise<string> {
    if (this.endpointUrl) return this.endpointUrl;
    const server = createServer((req, res) => {
      this.serve(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        }
      });
    });
    server.keepAliveTimeout = 5000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.endpointUrl = `http://127.0.0.1:${port}`;
    return this.endpointUrl;
  }

  get endpoint(): string {
    if (!this.endpointUrl) throw new Error('AwsEmulator.endpoint read before start()');
    return this.endpointUrl;
  }

  /** Closes the server and every open socket; releases held requests. Safe to call twice. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.endpointUrl = undefined;
    for (const release of this.held) release();
    this.held.clear();
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Replaces the fault plan (rules, latency, response mutation). */
  /** The role's trust policy requires this ExternalId of whoever assumes it (as `sts:ExternalId`). */
  requireExternalId(roleArn: string, externalId: string): void {
    this.sts.requiredExternalIds.set(roleArn, externalId);
  }

  /** Replaces the IAM actions the caller's policy denies (see AwsEmulatorOptions.deniedActions). */
  setDeniedActions(actions: readonly string[]): void {
    this.deniedActions = new Set(actions);
  }

  setFaults(plan: FaultPlan): void {
    this.faults = new FaultInjector(plan);
  }

  clearFaults(): void {
    this.faults = new FaultInjector();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const requestId = newRequestId();
    const r = route(method, url.pathname, req.headers, body);
    if (!r) {
      this.write(
        res,
        errorResponse(
          'rest-json',
          'unknown',
          new AwsError(
            'UnknownOperationException',
            `No emulated operation for ${method} ${url.pathname}`,
            404,
          ),
          requestId,
        ),
      );
      return;
    }
    const opName = `${r.service}:${r.operation}`;
    const scope = credentialScope(req.headers.authorization);
    if (!scope) {
      this.accounting.record(opName, 'unknown', 'error');
      const error =
        r.protocol === 'query'
          ? new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403)
          : new AwsError(
              'MissingAuthenticationTokenException',
              'Missing Authentication Token',
              403,
              'MissingAuthenticationToken',
            );
      this.write(res, errorResponse(r.protocol, r.service, error, requestId));
      return;
    }
    const account = this.world.accountForAccessKey(scope.accessKeyId);
    const call: Call = {
      ...r,
      region: scope.region,
      account,
      accessKeyId: scope.accessKeyId,
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
    };
    const target: FaultTarget = {
      service: r.service,
      operation: r.operation,
      region: scope.region,
      account,
      virtualNowMs: this.clock.now(),
    };
    const finish = (outcome: Outcome, response?: WireResponse) => {
      this.accounting.record(opName, scope.region, outcome);
      if (response) this.write(res, response);
    };
    const fail = (error: AwsError) =>
      finish(
        isThrottling(error) ? 'throttled' : 'error',
        errorResponse(r.protocol, r.service, error, requestId),
      );

    try {
      this.sts.checkSession(scope.accessKeyId);
    } catch (e) {
      if (e instanceof AwsError) return fail(e);
      throw e;
    }
    if (this.deniedActions.has(r.iamAction)) return fail(accessDenied(r.service, r.iamAction, account));
    this.accounting.recordAction(r.iamAction);

    const latency = this.latencyMs + (this.faults.plan.latencyMs ?? 0);
    if (latency > 0) await this.hold(req, latency);
    if (res.destroyed || req.socket.destroyed) return finish('reset');

    const fault = this.faults.decide(target);
    if (fault) {
      switch (fault.kind) {
        case 'reset':
          finish('reset');
          req.socket.destroy();
          return;
        case 'timeout':
          await this.hold(req, fault.holdMs);
          if (fault.holdMs === undefined || res.destroyed || req.socket.destroyed) {
            finish('timeout');
            if (!res.destroyed) req.socket.destroy();
            return;
          }
          break;
        case 'throttle':
          return fail(throttlingError(r.service));
        case 'internal-error':
          return fail(
            new AwsError(
              'InternalFailure',
              'The request processing has failed because of an unknown error, exception or failure.',
              500,
            ),
          );
        case 'unavailable':
          return fail(new AwsError('ServiceUnavailable', 'Service is unavailable.', 503));
      }
    }

    if (this.quotas && !this.quotas.take(quotaName(r.service, r.operation), account, scope.region))
      return fail(throttlingError(r.service));

    let result: HandlerResult;
    try {
      result = this.handle(call, requestId);
    } catch (e) {
      if (e instanceof AwsError) return fail(e);
      return fail(
        new AwsError('InternalFailure', `emulator bug: ${e instanceof Error ? e.message : String(e)}`, 500),
      );
    }
    if (r.service === 'cloudwatch') {
      this.accounting.metricsRequested += result.metricsRequested ?? 0;
      this.accounting.datapointsReturned += result.datapoints ?? 0;
    }
    const mutated = this.faults.plan.mutateResponse?.(target, result.body);
    const contentType =
      r.protocol === 'query'
        ? 'text/xml'
        : r.protocol === 'rest-json'
          ? 'application/json'
          : `application/x-amz-json-${r.protocol === 'json1.0' ? '1.0' : '1.1'}`;
    finish('ok', {
      status: result.status ?? 200,
      headers: { 'content-type': contentType, 'x-amzn-requestid': requestId },
      body: mutated ?? result.body,
    });
  }

  /**
   * Runs the service's handler. CloudWatch is implemented over JSON: a query-protocol call is decoded
   * into the same JSON input and its JSON answer written back as CloudWatch's XML.
   */
  private handle(call: Call, requestId: string): HandlerResult {
    if (call.service !== 'cloudwatch' || call.protocol !== 'query') return this.handlers[call.service](call);
    const result = this.handlers.cloudwatch({ ...call, body: JSON.stringify(decodeQueryInput(call.body)) });
    const output = JSON.parse(result.body) as Record<string, unknown>;
    return { ...result, body: encodeQueryOutput(call.operation, output, requestId) };
  }

  /** Waits `ms` (forever when undefined) or until the client disconnects or the emulator stops. */
  private hold(req: IncomingMessage, ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const release = () => {
        if (timer) clearTimeout(timer);
        this.held.delete(release);
        req.socket.off('close', release);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(release, ms);
      this.held.add(release);
      req.socket.once('close', release);
    });
  }

  private write(res: ServerResponse, response: WireResponse): void {
    if (res.destroyed) return;
    res.writeHead(response.status, {
      ...response.headers,
      // AWS's clock is the world's: dogwatch judges its windows by the Date of AWS's answers.
      date: new Date(this.clock.now()).toUTCString(),
      'content-length': Buffer.byteLength(response.body),
    });
    res.end(response.body);
  }
}

function stripUndefined(record: Partial<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).filter((e): e is [string, number] => e[1] !== undefined));
}
