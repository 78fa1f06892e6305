import { ListFunctionsCommand, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import type { RegionContext } from '../../core/cloudwatch/integration.js';
import { lambdaClient } from './lambda-aws-apis.js';

export interface LambdaFunctionInfo {
  readonly name: string;
  readonly arn: string;
  readonly runtime?: string;
  readonly memorySize?: number;
  readonly timeout?: number;
  readonly architecture?: string;
  /** The function's custom log group (LoggingConfig.LogGroup); default `/aws/lambda/<name>`. */
  readonly logGroup?: string;
  /** LoggingConfig.LogFormat: `Text` or `JSON`. */
  readonly logFormat?: string;
}

export interface EdgeReplicaInfo {
  readonly masterName: string;
  /** ARN of the us-east-1 master, without a version qualifier. */
  readonly masterArn: string;
  readonly replica: LambdaFunctionInfo;
}

export interface LambdaInventory {
  readonly functions: ReadonlyMap<string, LambdaFunctionInfo>;
  /** Keyed by the replica's CloudWatch FunctionName, `us-east-1.<name>`. */
  readonly edgeReplicas: ReadonlyMap<string, EdgeReplicaInfo>;
  /** False when the MasterRegion listing failed (no permission): edge detection then falls back to names. */
  readonly edgeListingAvailable: boolean;
}

export const EDGE_MASTER_REGION = 'us-east-1';

function toInfo(f: FunctionConfiguration): LambdaFunctionInfo | undefined {
  if (!f.FunctionName || !f.FunctionArn) return undefined;
  return {
    name: f.FunctionName,
    arn: f.FunctionArn,
    runtime: f.Runtime,
    memorySize: f.MemorySize,
    timeout: f.Timeout,
    architecture: f.Architectures?.[0],
    ...(f.LoggingConfig?.LogGroup ? { logGroup: f.LoggingConfig.LogGroup } : {}),
    ...(f.LoggingConfig?.LogFormat ? { logFormat: f.LoggingConfig.LogFormat } : {}),
  };
}

async function listAll(
  context: RegionContext,
  input: { MasterRegion?: string; FunctionVersion?: 'ALL' },
): Promise<FunctionConfiguration[]> {
  const client = context.clients.client(lambdaClient, context.access, context.region);
  const found: FunctionConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListFunctionsCommand({ ...input, Marker: marker, MaxItems: 50 }), {
      abortSignal: context.signal,
    });
    found.push(...(page.Functions ?? []));
    marker = page.NextMarker || undefined;
  } while (marker);
  return found;
}

/** `arn:aws:lambda:us-east-1:123:function:name:7` → `arn:aws:lambda:us-east-1:123:function:name`. */
export function unqualifiedFunctionArn(arn: string): string {
  const parts = arn.split(':');
  return parts.length > 7 ? parts.slice(0, 7).join(':') : arn;
}

/**
 * Lambda ListFunctions for the region, plus (outside us-east-1) the Lambda@Edge replicas running there:
 * ListFunctions with MasterRegion=us-east-1 and FunctionVersion=ALL, whose MasterArn is the authority
 * on which us-east-1 function a replica belongs to (SPEC §3).
 */
export async function loadLambdaInventory(context: RegionContext): Promise<LambdaInventory> {
  const functions = new Map<string, LambdaFunctionInfo>();
  for (const f of await listAll(context, {})) {
    const info = toInfo(f);
    if (info) functions.set(info.name, info);
  }
  const edgeReplicas = new Map<string, EdgeReplicaInfo>();
  let edgeListingAvailable = true;
  if (context.region !== EDGE_MASTER_REGION) {
    try {
      for (const f of await listAll(context, { MasterRegion: EDGE_MASTER_REGION, FunctionVersion: 'ALL' })) {
        const replica = toInfo(f);
        if (!replica || !f.MasterArn) continue;
        const masterArn = unqualifiedFunctionArn(f.MasterArn);
        const masterName = masterArn.split(':')[6] ?? replica.name;
        const seriesName = `${EDGE_MASTER_REGION}.${masterName}`;
        if (!edgeReplicas.has(seriesName)) edgeReplicas.set(seriesName, { masterName, masterArn, replica });
      }
    } catch (error) {
      edgeListingAvailable = false;
      context.warn(
        `${context.region}: listing Lambda@Edge replicas (ListFunctions MasterRegion=us-east-1) failed, ` +
          `replicas are recognised by name only: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return { functions, edgeReplicas, edgeListingAvailable };
}
