/**
 * The emulated AWS estate: accounts, regions, Lambda functions, API Gateway APIs, Rekognition
 * operations, and every CloudWatch series they publish.
 *
 * Contracts:
 * - The world is a pure function of its options (and seed): same options, same world.
 * - `datapoint(series, start, period)` is a pure function of its arguments; tests recompute the exact
 *   value the server returns.
 * - The point of minute t of a series becomes visible at `visibleAt(series, t)` =
 *   t + 60 s + base delay + jitter(series, t) with jitter in [0, jitterSeconds].
 */
import {
  HTTP_API_METRICS,
  LAMBDA_ACCOUNT_METRICS,
  LAMBDA_ESM_METRICS,
  LAMBDA_FUNCTION_METRICS,
  REKOGNITION_METRICS,
  REKOGNITION_OPERATIONS,
  REST_API_METRICS,
  SQS_METRICS,
  WEBSOCKET_API_METRICS,
  type LambdaFeature,
  type MetricProfile,
} from './catalog.js';
import { MINUTE_MS, StatisticAccumulator, metricSeed, type Datapoint } from './datapoints.js';
import { SeededRandom, hashString, mix, unit4 } from './prng.js';

export const DEFAULT_ACCOUNT = '123456789012';
export const DEFAULT_ACCESS_KEY = 'AKIDEXAMPLE';

export interface Dimension {
  readonly Name: string;
  readonly Value: string;
}

/** One CloudWatch series: (account, region, namespace, metric name, dimension set). */
export interface Series {
  readonly account: string;
  readonly region: string;
  readonly namespace: string;
  readonly metricName: string;
  /** In the order AWS lists them. */
  readonly dimensions: readonly Dimension[];
  /** Unique within the world: account|region|namespace|metric|sorted dimensions. */
  readonly key: string;
  readonly unit: string;
  /** Seeds of the leaves this series sums (see datapoints.ts). */
  readonly leaves: readonly number[];
  readonly profile: MetricProfile;
  readonly seed: number;
  readonly metricSeed: number;
}

export interface LambdaAlias {
  readonly name: string;
  readonly functionVersion: string;
  readonly arn: string;
}

export interface LambdaFunction {
  readonly account: string;
  readonly region: string;
  readonly name: string;
  /** Unqualified ARN. */
  readonly arn: string;
  readonly runtime: string;
  readonly memorySize: number;
  readonly timeout: number;
  readonly architecture: 'x86_64' | 'arm64';
  readonly tags: Readonly<Record<string, string>>;
  readonly versions: readonly string[];
  readonly aliases: readonly LambdaAlias[];
  readonly features: ReadonlySet<LambdaFeature>;
  /** Lambda@Edge master (lives in us-east-1). */
  readonly isEdgeMaster: boolean;
  readonly lastModifiedMs: number;
}

/** A Lambda@Edge replica as ListFunctions(MasterRegion) shows it in its region. */
export interface EdgeReplica {
  readonly account: string;
  readonly region: string;
  /** `us-east-1.<master name>`: the FunctionName of its CloudWatch series too. */
  readonly name: string;
  readonly arn: string;
  readonly version: string;
  readonly masterArn: string;
  readonly master: LambdaFunction;
}

export interface EventSourceMapping {
  readonly uuid: string;
  readonly functionName: string;
  readonly account: string;
  readonly region: string;
}

export interface ApiStage {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly arn: string;
  /**
   * REST: `Resource Method` pairs (e.g. `/pets GET`) with detailed metrics; HTTP/WebSocket: route keys.
   * Empty = no detailed metrics. Equal to all routes = fully detailed.
   */
  readonly detailed: readonly string[];
  readonly createdMs: number;
}

export interface ApiRoute {
  /** REST: resource path; HTTP/WebSocket: route key. */
  readonly resource: string;
  /** REST only. */
  readonly method?: string;
}

export interface Api {
  readonly kind: 'REST' | 'HTTP' | 'WEBSOCKET';
  readonly account: string;
  readonly region: string;
  readonly id: string;
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly routes: readonly ApiRoute[];
  readonly stages: readonly ApiStage[];
  readonly createdMs: number;
}

/** An SQS queue. Its URL is `<endpoint>/<account>/<name>`, as SQS answers (see sqs.ts). */
export interface SqsQueue {
  readonly account: string;
  readonly region: string;
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface WorldOptions {
  /** PRNG seed; default 1. */
  seed?: number;
  /** Default [123456789012]. The first account is the default one. */
  accounts?: string[];
  /** Access key id → account. Unknown keys map to the first account. Default {AKIDEXAMPLE: first}. */
  accessKeys?: Record<string, string>;
  /** Regions holding resources. Default ['us-east-1', 'eu-west-1']. */
  regions?: string[];
  /** Regions where Lambda@Edge replicas run. Default ['eu-west-1', 'ap-northeast-1', 'us-west-2']. */
  edgeReplicaRegions?: string[];
  /** Ordinary Lambda functions per account and region. Default 4. */
  functions?: number;
  /** Names of the ordinary functions instead of generated ones (then `functions` is ignored). */
  functionNames?: readonly string[];
  /**
   * Pads every function's AWS tags to this many, with long keys and values (a tag-heavy account; AWS
   * allows 50 tags of up to 128 + 256 characters). Default: the generated two or three tags.
   */
  awsTagsPerFunction?: number;
  /** Lambda@Edge masters per account (in us-east-1). Default 1. */
  edgeFunctions?: number;
  /** Add `my.func`, a normal function whose name has a dot, to us-east-1 of each account. Default true. */
  dottedFunction?: boolean;
  /** Event source mappings per account and region. Default 2. */
  eventSourceMappings?: number;
  /** APIs per account and region. Defaults 2 / 1 / 1. */
  restApis?: number;
  httpApis?: number;
  websocketApis?: number;
  /** Rekognition operations with traffic per account and region (max 8). Default 5. */
  rekognitionOperations?: number;
  /** SQS queues per account and region; every third has no tags. Default 0. */
  sqsQueues?: number;
  /** Resource creation times and CloudTrail events are placed before this instant. Default 2025-01-01. */
  createdAtMs?: number;
}

/**
 * The `bare` preset: one account, us-east-1, nothing in it. Tests and tools spread it and add just the
 * resources they need: `{ ...BARE_WORLD, functions: 3 }`.
 */
export const BARE_WORLD: Readonly<WorldOptions> = Object.freeze({
  regions: ['us-east-1'],
  accounts: [DEFAULT_ACCOUNT],
  functions: 0,
  edgeFunctions: 0,
  dottedFunction: false,
  eventSourceMappings: 0,
  restApis: 0,
  httpApis: 0,
  websocketApis: 0,
  rekognitionOperations: 0,
});

/** The `small` preset: two accounts, us-east-1 + eu-west-1, edge replicas in three regions. */
export const SMALL_WORLD: WorldOptions = {
  accounts: [DEFAULT_ACCOUNT, '210987654321'],
  accessKeys: { [DEFAULT_ACCESS_KEY]: DEFAULT_ACCOUNT, AKIDSECONDACCOUNT: '210987654321' },
};

const RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'python3.12', 'python3.13', 'java21', 'provided.al2023'];
const MEMORY = [128, 256, 512, 1024, 1769, 3008];
const WORDS = [
  'orders',
  'billing',
  'users',
  'search',
  'images',
  'notify',
  'report',
  'ingest',
  'auth',
  'cart',
];
const ROLES = ['handler', 'worker', 'api', 'cron', 'consumer', 'resizer'];
const TEAMS = ['checkout', 'platform', 'growth', 'data'];
const ALL_FEATURES: readonly LambdaFeature[] = [
  'async',
  'stream',
  'provisioned',
  'url',
  'streaming',
  'codeSigning',
  'extensions',
];
const REST_RESOURCES: readonly ApiRoute[] = [
  { resource: '/', method: 'GET' },
  { resource: '/items', method: 'GET' },
  { resource: '/items', method: 'POST' },
  { resource: '/items/{id}', method: 'GET' },
  { resource: '/items/{id}', method: 'DELETE' },
];
const HTTP_ROUTES: readonly ApiRoute[] = [
  { resource: 'GET /items' },
  { resource: 'POST /items' },
  { resource: 'GET /items/{id}' },
  { resource: '$default' },
];
const WEBSOCKET_ROUTES: readonly ApiRoute[] = [
  { resource: '$connect' },
  { resource: '$disconnect' },
  { resource: '$default' },
  { resource: 'sendmessage' },
];

interface RegionIndex {
  readonly series: Series[];
  readonly byKey: Map<string, Series>;
  readonly functions: LambdaFunction[];
  readonly replicas: EdgeReplica[];
  readonly mappings: EventSourceMapping[];
  readonly apis: Api[];
  readonly rekognitionOperations: string[];
  readonly queues: SqsQueue[];
}

/** Canonical key of a dimension set: order-insensitive, as CloudWatch matches them. */
export function dimensionsKey(dimensions: readonly Dimension[]): string {
  return dimensions
    .map((d) => `${d.Name}=${d.Value}`)
    .sort()
    .join(',');
}

export function seriesKey(
  account: string,
  region: string,
  namespace: string,
  metricName: string,
  dimensions: readonly Dimension[],
): string {
  return `${account}|${region}|${namespace}|${metricName}|${dimensionsKey(dimensions)}`;
}

export interface PublicationDelay {
  baseSeconds: number;
  jitterSeconds: number;
}

function stageTags(owner: string | undefined): Record<string, string> {
  return owner ? { stage_owner: owner } : {};
}

export class World {
  readonly seed: number;
  readonly accounts: readonly string[];
  readonly defaultAccount: string;
  readonly createdAtMs: number;
  publicationDelay: PublicationDelay = { baseSeconds: 60, jitterSeconds: 60 };
  private readonly accessKeys: Map<string, string>;
  private readonly index = new Map<string, RegionIndex>();
  private readonly functionsByArn = new Map<string, LambdaFunction>();
  private readonly apisByArn = new Map<string, { api: Api; stage?: ApiStage }>();

  constructor(options: WorldOptions = SMALL_WORLD) {
    this.seed = options.seed ?? 1;
    this.accounts = options.accounts?.length ? [...options.accounts] : [DEFAULT_ACCOUNT];
    this.defaultAccount = this.accounts[0] ?? DEFAULT_ACCOUNT;
    this.createdAtMs = options.createdAtMs ?? Date.UTC(2025, 0, 1);
    this.accessKeys = new Map(
      Object.entries(options.accessKeys ?? { [DEFAULT_ACCESS_KEY]: this.defaultAccount }),
    );
    const regions = options.regions ?? ['us-east-1', 'eu-west-1'];
    const replicaRegions = options.edgeReplicaRegions ?? ['eu-west-1', 'ap-northeast-1', 'us-west-2'];
    for (const account of this.accounts) {
      const rng = new SeededRandom(mix(this.seed, hashString(account)));
      for (const region of regions) this.buildRegion(account, region, options, rng);
      const masters = this.regionIndex(account, 'us-east-1').functions.filter((f) => f.isEdgeMaster);
      for (const region of replicaRegions) this.buildReplicas(account, region, masters);
    }
  }

  /** Account an access key id belongs to; unknown keys belong to the default account. */
  accountForAccessKey(accessKeyId: string): string {
    return this.accessKeys.get(accessKeyId) ?? this.defaultAccount;
  }

  /** Registers an access key (used by STS AssumeRole). */
  addAccessKey(accessKeyId: string, account: string): void {
    this.accessKeys.set(accessKeyId, account);
  }

  /** All (account, region) pairs that hold anything. */
  locations(): { account: string; region: string }[] {
    return [...this.index.keys()].map((k) => {
      const [account = '', region = ''] = k.split('|');
      return { account, region };
    });
  }

  /** Every series, optionally filtered. */
  series(filter: { account?: string; region?: string; namespace?: string } = {}): Series[] {
    const out: Series[] = [];
    for (const [k, idx] of this.index) {
      const [account, region] = k.split('|');
      if (filter.account && filter.account !== account) continue;
      if (filter.region && filter.region !== region) continue;
      for (const s of idx.series) if (!filter.namespace || s.namespace === filter.namespace) out.push(s);
    }
    return out;
  }

  /** Series of one account and region, in a stable order (the order ListMetrics pages through). */
  seriesIn(account: string, region: string): readonly Series[] {
    return this.index.get(`${account}|${region}`)?.series ?? [];
  }

  findSeries(
    account: string,
    region: string,
    namespace: string,
    metricName: string,
    dimensions: readonly Dimension[],
  ): Series | undefined {
    return this.index
      .get(`${account}|${region}`)
      ?.byKey.get(seriesKey(account, region, namespace, metricName, dimensions));
  }

  /** Convenience lookup by dimension record, e.g. `{FunctionName: 'x'}`. */
  find(
    account: string,
    region: string,
    namespace: string,
    metricName: string,
    dimensions: Record<string, string> = {},
  ): Series | undefined {
    return this.findSeries(
      account,
      region,
      namespace,
      metricName,
      Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
    );
  }

  /** Milliseconds between the end of minute `minuteStartMs` and the moment its point is published. */
  publicationDelayMs(series: Series, minuteStartMs: number): number {
    const { baseSeconds, jitterSeconds } = this.publicationDelay;
    const jitter = Math.floor(
      unit4(series.seed, Math.floor(minuteStartMs / MINUTE_MS), 0, 9) * (jitterSeconds + 1),
    );
    return (baseSeconds + jitter) * 1000;
  }

  /** The instant the point of the minute starting at `minuteStartMs` becomes visible. */
  visibleAt(series: Series, minuteStartMs: number): number {
    const minute = Math.floor(minuteStartMs / MINUTE_MS) * MINUTE_MS;
    return minute + MINUTE_MS + this.publicationDelayMs(series, minute);
  }

  /**
   * The final value of `series` over [periodStartMs, periodStartMs + periodSeconds), or undefined when
   * no minute has data. With `asOfMs`, only the minutes already visible at that instant count.
   */
  datapoint(
    series: Series,
    periodStartMs: number,
    periodSeconds: number,
    asOfMs?: number,
  ): Datapoint | undefined {
    const acc = new StatisticAccumulator(series.profile);
    const first = Math.ceil(periodStartMs / MINUTE_MS);
    const end = (periodStartMs + periodSeconds * 1000) / MINUTE_MS;
    for (let minute = first; minute < end; minute++) {
      if (asOfMs !== undefined && this.visibleAt(series, minute * MINUTE_MS) > asOfMs) continue;
      for (const leaf of series.leaves) acc.addLeafMinute(leaf, series.metricSeed, minute);
    }
    return acc.result();
  }

  functions(account: string, region: string): readonly LambdaFunction[] {
    return this.index.get(`${account}|${region}`)?.functions ?? [];
  }

  functionByArn(arn: string): LambdaFunction | undefined {
    // A qualified ARN (…:function:name:qualifier) names the same function.
    return this.functionsByArn.get(arn.split(':').slice(0, 7).join(':'));
  }

  edgeReplicas(account: string, region: string): readonly EdgeReplica[] {
    return this.index.get(`${account}|${region}`)?.replicas ?? [];
  }

  eventSourceMappings(account: string, region: string): readonly EventSourceMapping[] {
    return this.index.get(`${account}|${region}`)?.mappings ?? [];
  }

  apis(account: string, region: string, kind?: Api['kind']): readonly Api[] {
    const all = this.index.get(`${account}|${region}`)?.apis ?? [];
    return kind ? all.filter((a) => a.kind === kind) : all;
  }

  /** An API or a stage by its ARN (`arn:aws:apigateway:<region>::/restapis/<id>[/stages/<name>]`). */
  apiByArn(arn: string): { api: Api; stage?: ApiStage } | undefined {
    return this.apisByArn.get(arn);
  }

  rekognitionOperations(account: string, region: string): readonly string[] {
    return this.index.get(`${account}|${region}`)?.rekognitionOperations ?? [];
  }

  queues(account: string, region: string): readonly SqsQueue[] {
    return this.index.get(`${account}|${region}`)?.queues ?? [];
  }

  private regionIndex(account: string, region: string): RegionIndex {
    const k = `${account}|${region}`;
    let idx = this.index.get(k);
    if (!idx) {
      idx = {
        series: [],
        byKey: new Map(),
        functions: [],
        replicas: [],
        mappings: [],
        apis: [],
        rekognitionOperations: [],
        queues: [],
      };
      this.index.set(k, idx);
    }
    return idx;
  }

  private addSeries(
    idx: RegionIndex,
    account: string,
    region: string,
    namespace: string,
    metricName: string,
    dimensions: Dimension[],
    profile: MetricProfile,
    leaves: readonly number[],
  ): void {
    const key = seriesKey(account, region, namespace, metricName, dimensions);
    if (idx.byKey.has(key)) return;
    const series: Series = {
      account,
      region,
      namespace,
      metricName,
      dimensions,
      key,
      unit: profile.unit,
      leaves,
      profile,
      seed: mix(this.seed, hashString(key)),
      metricSeed: metricSeed(metricName),
    };
    idx.series.push(series);
    idx.byKey.set(key, series);
  }

  private leaf(...parts: string[]): number {
    return mix(this.seed, hashString(parts.join('|')));
  }

  private buildRegion(account: string, region: string, options: WorldOptions, rng: SeededRandom): void {
    const idx = this.regionIndex(account, region);
    const count = options.functionNames ? 0 : (options.functions ?? 4);
    const names: { name: string; edge: boolean }[] = (options.functionNames ?? []).map((name) => ({
      name,
      edge: false,
    }));
    for (let i = 0; i < count; i++)
      names.push({
        name: `${WORDS[i % WORDS.length]}-${ROLES[Math.floor(i / WORDS.length) % ROLES.length]}${i >= 60 ? `-${i}` : ''}`,
        edge: false,
      });
    if (region === 'us-east-1') {
      if (options.dottedFunction ?? true) names.push({ name: 'my.func', edge: false });
      for (let i = 0; i < (options.edgeFunctions ?? 1); i++)
        names.push({ name: i === 0 ? 'edge-auth' : `edge-auth-${i}`, edge: true });
    }
    names.forEach(({ name, edge }, i) => {
      const fn = this.buildFunction(account, region, name, edge, i, rng, options.awsTagsPerFunction);
      idx.functions.push(fn);
      this.functionsByArn.set(fn.arn, fn);
      this.addFunctionSeries(idx, fn);
    });
    const streamFunctions = idx.functions.filter((f) => f.features.has('stream'));
    for (let i = 0; i < (options.eventSourceMappings ?? 2) && streamFunctions.length > 0; i++) {
      const fn = streamFunctions[i % streamFunctions.length]!;
      const h = (n: number) =>
        mix(this.seed, hashString(`${fn.arn}|esm|${i}`), n)
          .toString(16)
          .padStart(8, '0');
      const uuid = `${h(1)}-${h(2).slice(0, 4)}-4${h(3).slice(0, 3)}-a${h(4).slice(0, 3)}-${h(5)}${h(6).slice(0, 4)}`;
      idx.mappings.push({ uuid, functionName: fn.name, account, region });
      for (const m of LAMBDA_ESM_METRICS) {
        this.addSeries(
          idx,
          account,
          region,
          'AWS/Lambda',
          m.name,
          [{ Name: 'EventSourceMappingUUID', Value: uuid }],
          m.profile,
          [this.leaf(uuid)],
        );
      }
    }
    this.addAccountSeries(idx, account, region);
    this.buildApis(idx, account, region, options, rng);
    const ops = REKOGNITION_OPERATIONS.slice(
      0,
      Math.min(options.rekognitionOperations ?? 5, REKOGNITION_OPERATIONS.length),
    );
    idx.rekognitionOperations.push(...ops);
    for (const op of ops) {
      for (const m of REKOGNITION_METRICS) {
        if (m.operations && !m.operations.includes(op)) continue;
        this.addSeries(
          idx,
          account,
          region,
          'AWS/Rekognition',
          m.name,
          [{ Name: 'Operation', Value: op }],
          m.profile,
          [this.leaf(account, region, 'rekognition', op)],
        );
      }
    }
    this.buildQueues(idx, account, region, options.sqsQueues ?? 0);
  }

  /** Queues last and without drawing from the seeded RNG: the rest of the world is the same with or without. */
  private buildQueues(idx: RegionIndex, account: string, region: string, count: number): void {
    for (let i = 0; i < count; i++) {
      const name = `${WORDS[i % WORDS.length]}-queue${i >= WORDS.length ? `-${i}` : ''}`;
      const arn = `arn:aws:sqs:${region}:${account}:${name}`;
      const team = TEAMS[mix(this.seed, hashString(arn)) % TEAMS.length]!;
      const tags: Record<string, string> = i % 3 === 2 ? {} : { team, env: i % 2 === 0 ? 'prod' : 'staging' };
      idx.queues.push({ account, region, name, arn, tags });
      for (const m of SQS_METRICS)
        this.addSeries(
          idx,
          account,
          region,
          'AWS/SQS',
          m.name,
          [{ Name: 'QueueName', Value: name }],
          m.profile,
          [this.leaf(arn, m.name)],
        );
    }
  }

  private buildFunction(
    account: string,
    region: string,
    name: string,
    edge: boolean,
    i: number,
    rng: SeededRandom,
    padTagsTo = 0,
  ): LambdaFunction {
    const arn = `arn:aws:lambda:${region}:${account}:function:${name}`;
    // Features rotate by index so even a handful of functions covers every metric of the contract.
    const features = new Set<LambdaFeature>();
    if (!edge) {
      features.add(ALL_FEATURES[i % ALL_FEATURES.length]!);
      features.add(ALL_FEATURES[(i + 4) % ALL_FEATURES.length]!);
    }
    const versionCount = rng.int(1, 4);
    const versions = Array.from({ length: versionCount }, (_, v) => String(v + 1));
    const aliases: LambdaAlias[] = [];
    if (!edge) {
      aliases.push({ name: 'live', functionVersion: String(versionCount), arn: `${arn}:live` });
      if (versionCount > 1)
        aliases.push({ name: 'canary', functionVersion: String(versionCount - 1), arn: `${arn}:canary` });
    }
    const tags: Record<string, string> = { team: rng.pick(TEAMS), env: rng.chance(0.7) ? 'prod' : 'staging' };
    if (rng.chance(0.5)) tags['service'] = name.split(/[-.]/)[0] ?? name;
    // Deterministic padding (no RNG draw), so the rest of the world is the same with or without it.
    for (let n = 0; Object.keys(tags).length < padTagsTo; n++)
      tags[`cost-allocation-${String(n).padStart(2, '0')}`] = `${name}-${n}-`.padEnd(180, 'x');
    return {
      account,
      region,
      name,
      arn,
      runtime: edge ? 'nodejs20.x' : rng.pick(RUNTIMES),
      memorySize: edge ? 128 : rng.pick(MEMORY),
      timeout: edge ? 5 : rng.pick([3, 10, 30, 60, 300, 900]),
      architecture: edge ? 'x86_64' : rng.chance(0.4) ? 'arm64' : 'x86_64',
      tags,
      versions,
      aliases,
      features,
      isEdgeMaster: edge,
      lastModifiedMs: this.createdAtMs - rng.int(1, 90) * 86_400_000,
    };
  }

  private addFunctionSeries(idx: RegionIndex, fn: LambdaFunction): void {
    const { account, region, name } = fn;
    const fnDim = [{ Name: 'FunctionName', Value: name }];
    // Traffic runs through the aliases' versions: the function total is the sum of its executed versions.
    const executed = [...new Set(fn.aliases.map((a) => a.functionVersion))];
    if (executed.length === 0) executed.push('$LATEST');
    const versionLeaf = (v: string) => this.leaf(fn.arn, 'version', v);
    const fnLeaves = executed.map(versionLeaf);
    for (const m of LAMBDA_FUNCTION_METRICS) {
      if (m.feature && !fn.features.has(m.feature)) continue;
      if (fn.isEdgeMaster && !m.edge) continue;
      this.addSeries(
        idx,
        account,
        region,
        'AWS/Lambda',
        m.name,
        fnDim,
        m.profile,
        m.perExecutedVersion || m.perResource ? fnLeaves : [this.leaf(fn.arn, 'function')],
      );
      if (m.perResource) {
        for (const alias of fn.aliases) {
          this.addSeries(
            idx,
            account,
            region,
            'AWS/Lambda',
            m.name,
            [...fnDim, { Name: 'Resource', Value: `${name}:${alias.name}` }],
            m.profile,
            [versionLeaf(alias.functionVersion)],
          );
        }
      }
      if (m.perExecutedVersion) {
        for (const v of executed) {
          this.addSeries(
            idx,
            account,
            region,
            'AWS/Lambda',
            m.name,
            [...fnDim, { Name: 'ExecutedVersion', Value: v }],
            m.profile,
            [versionLeaf(v)],
          );
        }
      }
    }
  }

  private addAccountSeries(idx: RegionIndex, account: string, region: string): void {
    for (const m of LAMBDA_ACCOUNT_METRICS)
      this.addSeries(idx, account, region, 'AWS/Lambda', m.name, [], m.profile, [
        this.leaf(account, region, 'account'),
      ]);
  }

  private buildReplicas(account: string, region: string, masters: readonly LambdaFunction[]): void {
    if (masters.length === 0) return;
    const idx = this.regionIndex(account, region);
    for (const master of masters) {
      const name = `us-east-1.${master.name}`;
      const version = master.versions[master.versions.length - 1] ?? '1';
      idx.replicas.push({
        account,
        region,
        name,
        arn: `arn:aws:lambda:${region}:${account}:function:${name}:${version}`,
        version,
        masterArn: master.arn,
        master,
      });
      for (const m of LAMBDA_FUNCTION_METRICS) {
        if (!m.edge) continue;
        this.addSeries(
          idx,
          account,
          region,
          'AWS/Lambda',
          m.name,
          [{ Name: 'FunctionName', Value: name }],
          m.profile,
          [this.leaf(account, region, name)],
        );
      }
    }
    if (!idx.series.some((s) => s.dimensions.length === 0)) this.addAccountSeries(idx, account, region);
  }

  private buildApis(
    idx: RegionIndex,
    account: string,
    region: string,
    options: WorldOptions,
    rng: SeededRandom,
  ): void {
    const apiId = (kind: string, i: number) => {
      const h = hashString(`${account}|${region}|${kind}|${i}`);
      return (mix(this.seed, h, 1).toString(36) + mix(this.seed, h, 2).toString(36))
        .padEnd(10, '0')
        .slice(0, 10);
    };
    const createdMs = () => this.createdAtMs - rng.int(30, 400) * 86_400_000;
    for (let i = 0; i < (options.restApis ?? 2); i++) {
      const id = apiId('rest', i);
      const name = `${WORDS[(i + 3) % WORDS.length]}-api${i >= WORDS.length ? `-${i}` : ''}`;
      const routes = REST_RESOURCES.slice(0, 3 + (i % 3));
      const all = routes.map((r) => `${r.resource} ${r.method}`);
      // Stage 0 of API 0 is fully detailed; stage 0 of API 1 only partly (its detailed series do not add
      // up to the stage total); second stages have no detailed metrics.
      const stages = [
        { name: 'prod', detailed: i % 2 === 0 ? all : all.slice(0, 2) },
        { name: 'dev', detailed: [] },
      ];
      this.addApi(idx, 'REST', account, region, id, name, routes, stages, createdMs(), rng);
    }
    // HTTP then WebSocket, in this order: the seeded RNG is consumed API by API.
    const v2Kinds = [
      {
        kind: 'HTTP',
        count: options.httpApis ?? 1,
        idPrefix: 'http',
        routes: HTTP_ROUTES,
        stage: '$default',
        other: 'beta',
        word: 5,
        suffix: 'http',
      },
      {
        kind: 'WEBSOCKET',
        count: options.websocketApis ?? 1,
        idPrefix: 'ws',
        routes: WEBSOCKET_ROUTES,
        stage: 'production',
        other: 'dev',
        word: 7,
        suffix: 'ws',
      },
    ] as const;
    for (const v2 of v2Kinds) {
      for (let i = 0; i < v2.count; i++) {
        const stages = [
          { name: v2.stage, detailed: v2.routes.map((r) => r.resource) },
          { name: v2.other, detailed: [] },
        ];
        const name = `${WORDS[(i + v2.word) % WORDS.length]}-${v2.suffix}${i ? `-${i}` : ''}`;
        this.addApi(
          idx,
          v2.kind,
          account,
          region,
          apiId(v2.idPrefix, i),
          name,
          v2.routes,
          stages,
          createdMs(),
          rng,
        );
      }
    }
  }

  private addApi(
    idx: RegionIndex,
    kind: Api['kind'],
    account: string,
    region: string,
    id: string,
    name: string,
    routes: readonly ApiRoute[],
    stageSpecs: { name: string; detailed: string[] }[],
    createdMs: number,
    rng: SeededRandom,
  ): void {
    const base =
      kind === 'REST'
        ? `arn:aws:apigateway:${region}::/restapis/${id}`
        : `arn:aws:apigateway:${region}::/apis/${id}`;
    const tags: Record<string, string> = rng.chance(0.85) ? { team: rng.pick(TEAMS), env: 'prod' } : {};
    const stages: ApiStage[] = stageSpecs.map((s) => ({
      name: s.name,
      detailed: s.detailed,
      arn: `${base}/stages/${s.name}`,
      tags: stageTags(rng.chance(0.6) ? rng.pick(TEAMS) : undefined),
      createdMs: createdMs + rng.int(0, 20) * 86_400_000,
    }));
    const api: Api = { kind, account, region, id, name, arn: base, tags, routes, stages, createdMs };
    idx.apis.push(api);
    this.apisByArn.set(base, { api });
    for (const stage of stages) this.apisByArn.set(stage.arn, { api, stage });

    const metrics =
      kind === 'REST' ? REST_API_METRICS : kind === 'HTTP' ? HTTP_API_METRICS : WEBSOCKET_API_METRICS;
    const routeKey = (r: ApiRoute) => (kind === 'REST' ? `${r.resource} ${r.method}` : r.resource);
    const leafOf = (stage: string, r: ApiRoute) => this.leaf(account, region, id, stage, routeKey(r));
    const apiDim: Dimension =
      kind === 'REST' ? { Name: 'ApiName', Value: name } : { Name: 'ApiId', Value: id };
    const allLeaves = stages.flatMap((s) => routes.map((r) => leafOf(s.name, r)));
    for (const m of metrics) {
      this.addSeries(idx, account, region, 'AWS/ApiGateway', m.name, [apiDim], m.profile, allLeaves);
      for (const stage of stages) {
        const stageDim = { Name: 'Stage', Value: stage.name };
        this.addSeries(
          idx,
          account,
          region,
          'AWS/ApiGateway',
          m.name,
          [apiDim, stageDim],
          m.profile,
          routes.map((r) => leafOf(stage.name, r)),
        );
        for (const r of routes) {
          if (!stage.detailed.includes(routeKey(r))) continue;
          const dims: Dimension[] =
            kind === 'REST'
              ? [
                  apiDim,
                  { Name: 'Method', Value: r.method ?? 'GET' },
                  { Name: 'Resource', Value: r.resource },
                  stageDim,
                ]
              : [apiDim, { Name: 'Route', Value: r.resource }, stageDim];
          this.addSeries(idx, account, region, 'AWS/ApiGateway', m.name, dims, m.profile, [
            leafOf(stage.name, r),
          ]);
        }
      }
    }
  }
}
