/**
 * Lambda over REST-JSON: ListFunctions (with MasterRegion for Lambda@Edge replicas), ListTags,
 * ListAliases. Pages hold at most 50 items, as AWS documents.
 */
import type { Call, HandlerResult } from './call.js';
import { AwsError, decodeToken, encodeToken, fingerprint } from './wire.js';
import { lambdaLoggingConfig } from './lambda-logs.js';
import type { EdgeReplica, LambdaFunction, World } from './world.js';

export const LIST_FUNCTIONS_PAGE = 50;

function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterValueException', message, 400, 'InvalidParameterValueException', {
    Type: 'User',
  });
}
function notFound(message: string): AwsError {
  return new AwsError('ResourceNotFoundException', message, 404, 'ResourceNotFoundException', {
    Type: 'User',
  });
}

function lambdaDate(ms: number): string {
  // Lambda's LastModified format: 2024-01-31T12:00:00.000+0000
  return new Date(ms).toISOString().replace('Z', '+0000');
}

function configuration(
  world: World,
  fn: LambdaFunction,
  version: string,
  qualifiedArn: boolean,
): Record<string, unknown> {
  return {
    FunctionName: fn.name,
    FunctionArn: qualifiedArn ? `${fn.arn}:${version}` : fn.arn,
    Runtime: fn.runtime,
    Role: `arn:aws:iam::${fn.account}:role/${fn.name.replace(/\./g, '-')}-role`,
    Handler: 'index.handler',
    CodeSize: 1024 + ((fn.name.length * 977) % 50_000),
    Description: '',
    Timeout: fn.timeout,
    MemorySize: fn.memorySize,
    LastModified: lambdaDate(fn.lastModifiedMs),
    CodeSha256: Buffer.from(`${fn.arn}:${version}`).toString('base64').slice(0, 43) + '=',
    Version: version,
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: `00000000-0000-4000-8000-${(fn.name.length * 7919).toString(16).padStart(12, '0').slice(0, 12)}`,
    PackageType: 'Zip',
    Architectures: [fn.architecture],
    EphemeralStorage: { Size: 512 },
    LoggingConfig: { ...lambdaLoggingConfig(world, fn), ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO' },
  };
}

function replicaConfiguration(world: World, replica: EdgeReplica): Record<string, unknown> {
  return {
    ...configuration(world, replica.master, replica.version, true),
    FunctionName: replica.name,
    FunctionArn: replica.arn,
    MasterArn: replica.masterArn,
  };
}

function pageOf<T>(items: T[], call: Call, what: unknown): { page: T[]; next?: string } {
  const maxItemsRaw = call.query.get('MaxItems');
  const maxItems = maxItemsRaw === null ? LIST_FUNCTIONS_PAGE : Number(maxItemsRaw);
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 10_000)
    throw invalidParameter('MaxItems must be between 1 and 10000.');
  const size = Math.min(maxItems, LIST_FUNCTIONS_PAGE);
  const fp = fingerprint(what);
  const marker = call.query.get('Marker');
  const start = marker === null ? 0 : decodeToken(marker, fp);
  if (start === undefined) throw invalidParameter('Invalid Marker.');
  const page = items.slice(start, start + size);
  return start + size < items.length ? { page, next: encodeToken(start + size, fp) } : { page };
}

export class LambdaService {
  /** False: ListFunctions ignores MasterRegion and lists the region's own functions, as moto does. */
  listsEdgeReplicas = true;

  constructor(private readonly world: World) {}

  handle(call: Call): HandlerResult {
    switch (call.operation) {
      case 'ListFunctions':
        return this.listFunctions(call);
      case 'ListTags':
        return this.listTags(call);
      case 'ListAliases':
        return this.listAliases(call);
      default:
        throw new AwsError(
          'UnknownOperationException',
          `Operation ${call.operation} is not supported by the emulator`,
          400,
        );
    }
  }

  private listFunctions(call: Call): HandlerResult {
    const masterRegion = call.query.get('MasterRegion');
    const functionVersion = call.query.get('FunctionVersion');
    if (functionVersion !== null && functionVersion !== 'ALL')
      invalidParameterThrow('FunctionVersion must be ALL.');
    let items: Record<string, unknown>[];
    if (masterRegion !== null && this.listsEdgeReplicas) {
      if (masterRegion !== 'ALL' && !/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(masterRegion))
        invalidParameterThrow('MasterRegion is not valid.');
      if (functionVersion !== 'ALL')
        invalidParameterThrow('FunctionVersion must be ALL when MasterRegion is specified.');
      // Every master lives in us-east-1: any other MasterRegion lists nothing.
      const replicas =
        masterRegion === 'ALL' || masterRegion === 'us-east-1'
          ? this.world.edgeReplicas(call.account, call.region)
          : [];
      items = replicas.map((replica) => replicaConfiguration(this.world, replica));
    } else {
      items = this.world
        .functions(call.account, call.region)
        .flatMap((fn) => [
          configuration(this.world, fn, '$LATEST', false),
          ...(functionVersion === 'ALL'
            ? fn.versions.map((v) => configuration(this.world, fn, v, true))
            : []),
        ]);
    }
    const { page, next } = pageOf(items, call, [
      'ListFunctions',
      call.account,
      call.region,
      masterRegion,
      functionVersion,
    ]);
    return { body: JSON.stringify({ Functions: page, ...(next ? { NextMarker: next } : {}) }) };
  }

  private listTags(call: Call): HandlerResult {
    const arn = call.pathParams[0] ?? '';
    const fn = this.world.functionByArn(arn);
    if (!fn || fn.region !== call.region || fn.account !== call.account)
      throw notFound(`Function not found: ${arn}`);
    return { body: JSON.stringify({ Tags: fn.tags }) };
  }

  private listAliases(call: Call): HandlerResult {
    const nameOrArn = call.pathParams[0] ?? '';
    const fn = nameOrArn.startsWith('arn:')
      ? this.world.functionByArn(nameOrArn)
      : this.world.functions(call.account, call.region).find((f) => f.name === nameOrArn);
    if (!fn || fn.region !== call.region || fn.account !== call.account) {
      throw notFound(
        `Function not found: arn:aws:lambda:${call.region}:${call.account}:function:${nameOrArn}`,
      );
    }
    const version = call.query.get('FunctionVersion');
    const aliases = fn.aliases
      .filter((a) => version === null || a.functionVersion === version)
      .map((a) => ({
        AliasArn: a.arn,
        Name: a.name,
        FunctionVersion: a.functionVersion,
        Description: '',
        RevisionId: `rev-${a.name}`,
      }));
    const { page, next } = pageOf(aliases, call, ['ListAliases', fn.arn, version]);
    return { body: JSON.stringify({ Aliases: page, ...(next ? { NextMarker: next } : {}) }) };
  }
}

function invalidParameterThrow(message: string): never {
  throw invalidParameter(message);
}
