/**
 * The deployment events a world's CloudTrail must become on the wire, and a reading of what arrived: the
 * truth the deployment-event tests (in-process and SIGKILLed daemons) hold the DogStatsD events against.
 */
import { normalizeTag } from '../../core/check/normalize.js';
import type { ScheduledTrailEvent } from '../../emulator/index.js';
import { DEFAULT_ACCOUNT, type World } from '../../emulator/world.js';

export interface ParsedEvent {
  readonly title: string;
  readonly text: string;
  readonly timestamp?: number;
  readonly alertType?: string;
  readonly aggregationKey?: string;
  readonly sourceType?: string;
  readonly tags: readonly string[];
}

/** `_e{<title bytes>,<text bytes>}:title|text|d:…|k:…|s:…|t:…|#tags`, lengths in UTF-8 bytes. */
export function parseEvent(line: string): ParsedEvent | undefined {
  const head = /^_e\{(\d+),(\d+)\}:/.exec(line);
  if (!head) return undefined;
  const bytes = Buffer.from(line.slice(head[0].length), 'utf8');
  const titleBytes = Number(head[1]);
  const textBytes = Number(head[2]);
  const title = bytes.subarray(0, titleBytes).toString('utf8');
  const text = bytes
    .subarray(titleBytes + 1, titleBytes + 1 + textBytes)
    .toString('utf8')
    .replace(/\\n/g, '\n');
  const rest = bytes.subarray(titleBytes + 1 + textBytes).toString('utf8');
  const fields = rest.split('|').filter((f) => f !== '');
  const field = (prefix: string): string | undefined =>
    fields.find((f) => f.startsWith(prefix))?.slice(prefix.length);
  const d = field('d:');
  return {
    title,
    text,
    timestamp: d === undefined ? undefined : Number(d),
    alertType: field('t:'),
    aggregationKey: field('k:'),
    sourceType: field('s:'),
    tags: field('#')?.split(',') ?? [],
  };
}

/** The operations of the world's schedule that the checks send (the others are reads and tagging). */
const LAMBDA_OPERATIONS = new Set([
  'UpdateFunctionCode',
  'UpdateFunctionConfiguration',
  'PublishVersion',
  'UpdateAlias',
]);
const API_OPERATIONS = new Set(['CreateDeployment', 'UpdateStage']);
const operationOf = (name: string): string => name.replace(/\d{8}(v\d+)?$/, '');

/** Whether a scheduled event is one the checks turn into a Datadog event. */
export function isDeploymentEvent(e: ScheduledTrailEvent): boolean {
  const lambda = e.eventSource === 'lambda.amazonaws.com';
  return (lambda ? LAMBDA_OPERATIONS : API_OPERATIONS).has(operationOf(e.eventName));
}

/**
 * The event the world's CloudTrail record in `region` must become, for an instance with `instanceTags`
 * whose Lambda regions are `lambdaRegions` (where it sees Lambda@Edge replicas): APIs named as the world
 * names them, edge masters tagged with their replicas' `edge_master_name`.
 */
export function expectedEvent(
  world: World,
  e: ScheduledTrailEvent,
  region: string,
  instanceTags: readonly string[],
  lambdaRegions: readonly string[] = [region],
): ParsedEvent {
  const operation = operationOf(e.eventName);
  const lambda = e.eventSource === 'lambda.amazonaws.com';
  const request = e.requestParameters as {
    stageName?: string;
    createDeploymentInput?: { stageName?: string };
  };
  const stage = request.stageName ?? request.createDeploymentInput?.stageName;
  const apiName = world.apis(DEFAULT_ACCOUNT, region).find((api) => api.id === e.resourceName)?.name;
  const title = lambda
    ? `Lambda ${operation}: ${e.resourceName} (${region})`
    : `API Gateway ${operation}: ${apiName} stage ${stage} (${region})`;
  const edgeMaster =
    lambda &&
    lambdaRegions.some((r) =>
      world.edgeReplicas(DEFAULT_ACCOUNT, r).some((replica) => replica.master.name === e.resourceName),
    ) &&
    region === 'us-east-1';
  const own = lambda
    ? [
        `functionname:${e.resourceName}`,
        `resource:${e.resourceName}`,
        ...(edgeMaster ? [`edge_master_name:${e.resourceName}`] : []),
      ]
    : [`apiid:${e.resourceName}`, `apiname:${apiName}`, `stage:${stage}`];
  const tags = [
    ...own,
    `region:${region}`,
    `aws_account:${DEFAULT_ACCOUNT}`,
    `event_name:${operation}`,
    ...instanceTags,
  ];
  return {
    title,
    text: '',
    timestamp: Math.floor(e.timeMs / 1000),
    alertType: e.errorCode ? 'error' : 'info',
    sourceType: lambda ? 'amazon_lambda' : 'amazon_api_gateway',
    tags: tags.map((t) => normalizeTag(t)!).sort(),
  };
}

/** The CloudTrail event ID an event's text names. */
export const trailIdOf = (event: ParsedEvent): string | undefined =>
  /CloudTrail event (\S+)/.exec(event.text)?.[1];

/** What arrived, against the events that must (`expected`) and those that may (`optional`) arrive. */
export interface EventTally {
  /** Copies received per ID, expected or optional. */
  readonly received: Map<string, ParsedEvent[]>;
  readonly missing: string[];
  readonly duplicated: string[];
  /** Events whose ID is neither expected nor optional (another region, operation or time). */
  readonly strays: ParsedEvent[];
}

export function tallyEvents(
  lines: readonly string[],
  expected: ReadonlyMap<string, ParsedEvent>,
  optional: ReadonlySet<string> = new Set(),
): EventTally {
  const received = new Map<string, ParsedEvent[]>();
  const strays: ParsedEvent[] = [];
  for (const line of lines) {
    const event = parseEvent(line);
    if (!event) continue;
    const id = trailIdOf(event);
    if (id === undefined || !(expected.has(id) || optional.has(id))) strays.push(event);
    else received.set(id, [...(received.get(id) ?? []), event]);
  }
  return {
    received,
    missing: [...expected.keys()].filter((id) => !received.has(id)),
    duplicated: [...received].filter(([, copies]) => copies.length > 1).map(([id]) => id),
    strays,
  };
}
