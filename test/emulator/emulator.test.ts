import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  APIGatewayClient,
  GetRestApisCommand,
  GetStagesCommand,
  GetTagsCommand,
} from '@aws-sdk/client-api-gateway';
import {
  ApiGatewayV2Client,
  GetApisCommand,
  GetStagesCommand as GetV2StagesCommand,
  GetTagsCommand as GetV2TagsCommand,
} from '@aws-sdk/client-apigatewayv2';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListTagsCommand,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { ListQueuesCommand, ListQueueTagsCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { ManualClock } from '../../core/clock.js';
import { AwsEmulator, regionDown, type Series } from '../../emulator/index.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0);
const ACCOUNT = '123456789012';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' };

interface ServiceError {
  name: string;
  message: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (e) {
    return e as ServiceError;
  }
  assert.fail('expected the call to fail');
}

function query(id: string, s: Series, stat: string, period = 60): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: { Namespace: s.namespace, MetricName: s.metricName, Dimensions: [...s.dimensions] },
      Period: period,
      Stat: stat,
    },
  };
}

describe('AwsEmulator through the real SDK clients', () => {
  const clock = new ManualClock(T0);
  const credentialClock = new ManualClock(T0);
  const emulator = new AwsEmulator({
    world: { functions: 120, restApis: 30 },
    clock,
    credentialClock,
    quotas: false,
  });
  let endpoint = '';
  const config = (region = 'us-east-1', maxAttempts = 1) => ({ endpoint, region, credentials, maxAttempts });

  before(async () => {
    endpoint = await emulator.start();
  });
  after(async () => {
    await emulator.stop();
    await emulator.stop();
  });

  test('ListMetrics pages 500 at a time, filters by namespace and dimension', async () => {
    const cw = new CloudWatchClient(config());
    const expected = emulator.world
      .seriesIn(ACCOUNT, 'us-east-1')
      .filter((s) => s.namespace === 'AWS/Lambda');
    assert.ok(expected.length > 1000);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await cw.send(
        new ListMetricsCommand({ Namespace: 'AWS/Lambda', RecentlyActive: 'PT3H', NextToken: token }),
      );
      pages++;
      if (page.NextToken) assert.equal(page.Metrics?.length, 500);
      for (const m of page.Metrics ?? []) seen.push(`${m.MetricName} ${JSON.stringify(m.Dimensions)}`);
      token = page.NextToken;
    } while (token);
    assert.equal(seen.length, expected.length);
    assert.equal(pages, Math.ceil(expected.length / 500));
    const byDim = await cw.send(
      new ListMetricsCommand({ Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'EventSourceMappingUUID' }] }),
    );
    assert.ok(
      byDim.Metrics!.length > 0 &&
        byDim.Metrics!.every((m) => m.Dimensions?.[0]?.Name === 'EventSourceMappingUUID'),
    );
    const one = await cw.send(
      new ListMetricsCommand({
        MetricName: 'Invocations',
        Dimensions: [{ Name: 'FunctionName', Value: 'my.func' }],
      }),
    );
    assert.equal(one.Metrics?.length, 1 + 2 + 2); // FunctionName, +Resource per alias, +ExecutedVersion per version
    const invalid = await failure(cw.send(new ListMetricsCommand({ RecentlyActive: 'PT1H' as 'PT3H' })));
    assert.equal(invalid.name, 'InvalidParameterValueException');
  });

  test('GetMetricData returns the world values, honours ScanBy, Label and statistics', async () => {
    const cw = new CloudWatchClient(config());
    const w = emulator.world;
    const duration = w.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Duration', { FunctionName: 'my.func' })!;
    const start = T0 - 3 * 3600_000;
    const end = T0 - 3600_000;
    const stats = ['Average', 'Sum', 'SampleCount', 'Minimum', 'Maximum', 'p50', 'p90', 'p99', 'p99.9'];
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(start),
        EndTime: new Date(end),
        MetricDataQueries: stats.map((s, i) => ({ ...query(`q${i}`, duration, s, 300), Label: `L${i}` })),
        ScanBy: 'TimestampAscending',
      }),
    );
    const results = out.MetricDataResults!;
    assert.equal(results.length, stats.length);
    const first = results[0]!;
    assert.equal(first.Label, 'L0');
    assert.equal(first.StatusCode, 'Complete');
    assert.equal(first.Timestamps!.length, 24);
    assert.equal(first.Timestamps![0]!.getTime(), start);
    for (const [i, r] of results.entries()) {
      r.Timestamps!.forEach((ts, k) => {
        const p = w.datapoint(duration, ts.getTime(), 300)!;
        const expected = {
          Average: p.Average,
          Sum: p.Sum,
          SampleCount: p.SampleCount,
          Minimum: p.Minimum,
          Maximum: p.Maximum,
        }[stats[i]!];
        assert.equal(r.Values![k], expected ?? p.percentile(Number(stats[i]!.slice(1))));
      });
    }
    // Sum = Average × SampleCount; Minimum ≤ p50 ≤ p90 ≤ p99 ≤ Maximum.
    const v = (i: number, k: number) => results[i]!.Values![k]!;
    for (let k = 0; k < 24; k++) {
      assert.ok(Math.abs(v(1, k) - v(0, k) * v(2, k)) < 1e-6 * v(1, k));
      for (let i = 5; i < stats.length; i++)
        assert.ok(v(3, k) <= v(i, k) && v(i, k) <= v(4, k) && v(i - 1 < 5 ? 3 : i - 1, k) <= v(i, k));
    }
    const descending = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(start),
        EndTime: new Date(end),
        MetricDataQueries: [query('a', duration, 'Sum', 300)],
      }),
    );
    assert.deepEqual(descending.MetricDataResults![0]!.Timestamps, [...first.Timestamps!].reverse());
  });

  test('sparse series: missing minutes are missing, not zeros', async () => {
    const cw = new CloudWatchClient(config());
    const errors = emulator.world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Errors', {
      FunctionName: 'my.func',
    })!;
    const start = T0 - 2 * 3600_000;
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(start),
        EndTime: new Date(start + 3600_000),
        MetricDataQueries: [query('e', errors, 'Sum')],
      }),
    );
    const r = out.MetricDataResults![0]!;
    const expected = Array.from({ length: 60 }, (_, i) => start + i * 60_000).filter((t) =>
      emulator.world.datapoint(errors, t, 60),
    );
    assert.ok(expected.length < 60 && expected.length > 0);
    assert.deepEqual(r.Timestamps!.map((t) => t.getTime()).reverse(), expected);
    assert.ok(r.Values!.every((x) => x >= 1));
  });

  test('GetMetricData pages past 100,800 datapoints with NextToken; rejects >500 queries and duplicate Ids', async () => {
    const cw = new CloudWatchClient(config());
    const series = emulator.world
      .seriesIn(ACCOUNT, 'us-east-1')
      .filter((s) => s.metricName === 'Invocations')
      .slice(0, 125);
    const queries = series.flatMap((s, i) =>
      ['Sum', 'SampleCount', 'Average', 'Maximum'].map((stat, j) => query(`m${i}_${j}`, s, stat)),
    );
    assert.equal(queries.length, 500);
    const start = T0 - 6 * 3600_000 - 600_000; // 250 one-minute points per query: 125,000 in all
    const end = T0 - 2 * 3600_000;
    const points = new Map<string, number>();
    let token: string | undefined;
    let pages = 0;
    const before = emulator.accounting.snapshot();
    do {
      const out = await cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(start),
          EndTime: new Date(end),
          MetricDataQueries: queries,
          NextToken: token,
        }),
      );
      pages++;
      const count = out.MetricDataResults!.reduce((a, r) => a + r.Values!.length, 0);
      if (out.NextToken) {
        assert.equal(count, 100_800);
        assert.ok(out.MetricDataResults!.some((r) => r.StatusCode === 'PartialData'));
      }
      for (const r of out.MetricDataResults!) points.set(r.Id!, (points.get(r.Id!) ?? 0) + r.Values!.length);
      token = out.NextToken;
    } while (token);
    assert.equal(pages, 2);
    assert.equal(points.size, 500);
    assert.ok([...points.values()].every((n) => n === 250));
    assert.equal(emulator.accounting.metricsRequested - before.metricsRequested, 1000);
    assert.equal(emulator.accounting.datapointsReturned - before.datapointsReturned, 125_000);

    const tooMany = await failure(
      cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(start),
          EndTime: new Date(end),
          MetricDataQueries: [...queries, query('extra', series[0]!, 'Sum')],
        }),
      ),
    );
    assert.equal(tooMany.name, 'ValidationException');
    assert.equal(tooMany.$metadata?.httpStatusCode, 400);
    const duplicate = await failure(
      cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(start),
          EndTime: new Date(end),
          MetricDataQueries: [query('a', series[0]!, 'Sum'), query('a', series[1]!, 'Sum')],
        }),
      ),
    );
    assert.equal(duplicate.name, 'ValidationException');
    const badStat = await failure(
      cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(start),
          EndTime: new Date(end),
          MetricDataQueries: [query('a', series[0]!, 'Median')],
        }),
      ),
    );
    assert.equal(badStat.name, 'InvalidParameterValueException');
  });

  test('GetMetricStatistics agrees with GetMetricData', async () => {
    const cw = new CloudWatchClient(config());
    const s = emulator.world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Duration', {
      FunctionName: 'my.func',
    })!;
    const start = T0 - 3600_000;
    const out = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: s.namespace,
        MetricName: s.metricName,
        Dimensions: [...s.dimensions],
        StartTime: new Date(start),
        EndTime: new Date(start + 1800_000),
        Period: 600,
        Statistics: ['Average', 'Maximum', 'SampleCount'],
      }),
    );
    assert.equal(out.Datapoints!.length, 3);
    for (const dp of out.Datapoints!) {
      const p = emulator.world.datapoint(s, dp.Timestamp!.getTime(), 600)!;
      assert.equal(dp.Average, p.Average);
      assert.equal(dp.Maximum, p.Maximum);
      assert.equal(dp.SampleCount, p.SampleCount);
      assert.equal(dp.Unit, 'Milliseconds');
    }
    const ext = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: s.namespace,
        MetricName: s.metricName,
        Dimensions: [...s.dimensions],
        StartTime: new Date(start),
        EndTime: new Date(start + 600_000),
        Period: 600,
        ExtendedStatistics: ['p99'],
      }),
    );
    assert.equal(
      ext.Datapoints![0]!.ExtendedStatistics!['p99'],
      emulator.world.datapoint(s, start, 600)!.percentile(99),
    );
    const both = await failure(
      cw.send(
        new GetMetricStatisticsCommand({
          Namespace: s.namespace,
          MetricName: s.metricName,
          StartTime: new Date(start),
          EndTime: new Date(start + 600_000),
          Period: 60,
        }),
      ),
    );
    assert.equal(both.name, 'InvalidParameterCombinationException');
  });

  test('publication delay: a point is invisible before its time and visible after', async () => {
    const cw = new CloudWatchClient(config());
    const s = emulator.world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Invocations', {
      FunctionName: 'my.func',
    })!;
    const minute = T0 - 60_000;
    const visible = emulator.world.visibleAt(s, minute);
    assert.ok(visible >= minute + 120_000 && visible <= minute + 180_000);
    const fetch = () =>
      cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(minute),
          EndTime: new Date(minute + 60_000),
          MetricDataQueries: [query('a', s, 'Sum')],
        }),
      );
    try {
      clock.set(visible - 1);
      assert.deepEqual((await fetch()).MetricDataResults![0]!.Values, []);
      clock.set(visible);
      assert.deepEqual((await fetch()).MetricDataResults![0]!.Values, [
        emulator.world.datapoint(s, minute, 60)!.Sum,
      ]);
    } finally {
      clock.set(T0);
    }
  });

  test('Lambda: ListFunctions pages 50 at a time; ListTags; ListAliases', async () => {
    const lambda = new LambdaClient(config());
    const configs: FunctionConfiguration[] = [];
    let marker: string | undefined;
    do {
      const page = await lambda.send(new ListFunctionsCommand({ Marker: marker, MaxItems: 1000 }));
      assert.ok(page.Functions!.length <= 50);
      if (page.NextMarker) assert.equal(page.Functions!.length, 50);
      configs.push(...page.Functions!);
      marker = page.NextMarker;
    } while (marker);
    const names = configs.map((f) => f.FunctionName!);
    assert.equal(names.length, 122);
    assert.ok(
      names.includes('my.func') &&
        names.includes('edge-auth') &&
        !names.some((n) => n.startsWith('us-east-1.')),
    );
    const fn = emulator.world.functions(ACCOUNT, 'us-east-1').find((f) => f.name === 'my.func')!;
    const first = configs.find((f) => f.FunctionName === 'my.func')!;
    assert.equal(first.MemorySize, fn.memorySize);
    assert.equal(first.Timeout, fn.timeout);
    assert.equal(first.Runtime, fn.runtime);
    assert.deepEqual(first.Architectures, [fn.architecture]);
    assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: fn.arn }))).Tags, fn.tags);
    const aliases = await lambda.send(new ListAliasesCommand({ FunctionName: 'my.func' }));
    assert.deepEqual(
      aliases.Aliases!.map((a) => [a.Name, a.FunctionVersion]),
      fn.aliases.map((a) => [a.name, a.functionVersion]),
    );
    const missing = await failure(
      lambda.send(new ListTagsCommand({ Resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:nope` })),
    );
    assert.equal(missing.name, 'ResourceNotFoundException');
  });

  test('Lambda@Edge: MasterRegion lists replicas with MasterArn in their region', async () => {
    for (const region of ['eu-west-1', 'ap-northeast-1', 'us-west-2']) {
      const lambda = new LambdaClient(config(region));
      const out = await lambda.send(
        new ListFunctionsCommand({ MasterRegion: 'us-east-1', FunctionVersion: 'ALL' }),
      );
      assert.deepEqual(
        out.Functions!.map((f) => [f.FunctionName, f.MasterArn]),
        [['us-east-1.edge-auth', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:edge-auth`]],
      );
      assert.ok(
        out.Functions![0]!.FunctionArn!.startsWith(
          `arn:aws:lambda:${region}:${ACCOUNT}:function:us-east-1.edge-auth:`,
        ),
      );
    }
    const plain = await new LambdaClient(config('eu-west-1')).send(new ListFunctionsCommand({}));
    assert.ok(
      plain.Functions!.every((f) => f.MasterArn === undefined && !f.FunctionName!.startsWith('us-east-1.')),
    );
    const bad = await failure(
      new LambdaClient(config('eu-west-1')).send(new ListFunctionsCommand({ MasterRegion: 'us-east-1' })),
    );
    assert.equal(bad.name, 'InvalidParameterValueException');
  });

  test('Tagging GetResources pages 100 at a time and filters by type and tag', async () => {
    const tagging = new ResourceGroupsTaggingAPIClient(config());
    const arns: string[] = [];
    let token: string | undefined;
    do {
      const page = await tagging.send(
        new GetResourcesCommand({ ResourceTypeFilters: ['lambda:function'], PaginationToken: token }),
      );
      if (page.PaginationToken) assert.equal(page.ResourceTagMappingList!.length, 100);
      arns.push(...page.ResourceTagMappingList!.map((r) => r.ResourceARN!));
      token = page.PaginationToken || undefined;
    } while (token);
    assert.equal(arns.length, 122);
    const prod = await tagging.send(
      new GetResourcesCommand({
        ResourceTypeFilters: ['lambda:function'],
        TagFilters: [{ Key: 'env', Values: ['prod'] }],
      }),
    );
    const expected = emulator.world.functions(ACCOUNT, 'us-east-1').filter((f) => f.tags['env'] === 'prod');
    assert.equal(prod.ResourceTagMappingList!.length, expected.length);
    const stages = await tagging.send(
      new GetResourcesCommand({ ResourceTypeFilters: ['apigateway:restapis/stages'] }),
    );
    assert.ok(
      stages.ResourceTagMappingList!.every((r) => /::\/restapis\/\w+\/stages\//.test(r.ResourceARN!)),
    );
  });

  test('API Gateway v1 and v2: APIs, stages with detailed-metrics settings, tags', async () => {
    const v1 = new APIGatewayClient(config());
    const all: string[] = [];
    let position: string | undefined;
    do {
      const page = await v1.send(new GetRestApisCommand({ position, limit: 25 }));
      all.push(...page.items!.map((a) => a.id!));
      position = page.position;
    } while (position);
    assert.equal(all.length, 30);
    const [full, partial] = emulator.world.apis(ACCOUNT, 'us-east-1', 'REST');
    const fullStages = await v1.send(new GetStagesCommand({ restApiId: full!.id }));
    assert.equal(
      fullStages.item!.find((s) => s.stageName === 'prod')!.methodSettings!['*/*']!.metricsEnabled,
      true,
    );
    const partStages = await v1.send(new GetStagesCommand({ restApiId: partial!.id }));
    assert.deepEqual(Object.keys(partStages.item!.find((s) => s.stageName === 'prod')!.methodSettings!), [
      '~1/GET',
      '~1items/GET',
    ]);
    const stage = full!.stages[1]!;
    assert.deepEqual((await v1.send(new GetTagsCommand({ resourceArn: stage.arn }))).tags ?? {}, stage.tags);
    assert.equal(
      (await failure(v1.send(new GetStagesCommand({ restApiId: 'nope' })))).name,
      'NotFoundException',
    );

    const v2 = new ApiGatewayV2Client(config());
    const apis = await v2.send(new GetApisCommand({}));
    assert.deepEqual(apis.Items!.map((a) => a.ProtocolType).sort(), ['HTTP', 'WEBSOCKET']);
    const http = apis.Items!.find((a) => a.ProtocolType === 'HTTP')!;
    const httpStages = await v2.send(new GetV2StagesCommand({ ApiId: http.ApiId }));
    assert.equal(
      httpStages.Items!.find((s) => s.StageName === '$default')!.DefaultRouteSettings!.DetailedMetricsEnabled,
      true,
    );
    const api = emulator.world.apis(ACCOUNT, 'us-east-1', 'HTTP')[0]!;
    assert.deepEqual((await v2.send(new GetV2TagsCommand({ ResourceArn: api.arn }))).Tags ?? {}, api.tags);
  });

  test('CloudTrail LookupEvents pages UpdateFunctionCode events', async () => {
    const trail = new CloudTrailClient(config());
    const first = await trail.send(
      new LookupEventsCommand({
        MaxResults: 50,
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'UpdateFunctionCode20150331v2' }],
      }),
    );
    assert.equal(first.Events!.length, 50);
    assert.ok(first.NextToken);
    const second = await trail.send(
      new LookupEventsCommand({
        MaxResults: 50,
        NextToken: first.NextToken,
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'UpdateFunctionCode20150331v2' }],
      }),
    );
    assert.ok(second.Events!.length > 0);
    assert.ok(first.Events![0]!.EventTime! >= first.Events![49]!.EventTime!);
    const one = await trail.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: 'my.func' }],
      }),
    );
    assert.equal(one.Events!.length, 3);
  });

  test('STS: caller identity, AssumeRole into another account, expired session token', async () => {
    const sts = new STSClient(config());
    assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Account, ACCOUNT);
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::210987654321:role/dogwatch-read',
        RoleSessionName: 'dogwatch',
        DurationSeconds: 900,
      }),
    );
    const c = assumed.Credentials!;
    assert.equal(c.Expiration!.getTime(), T0 + 900_000);
    const session = {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    };
    const as = { ...config(), credentials: session };
    assert.equal((await new STSClient(as).send(new GetCallerIdentityCommand({}))).Account, '210987654321');
    const fns = await new LambdaClient(as).send(new ListFunctionsCommand({}));
    assert.ok(fns.Functions!.every((f) => f.FunctionArn!.includes(':210987654321:')));
    credentialClock.advance(900_000);
    const expired = await failure(new LambdaClient(as).send(new ListFunctionsCommand({})));
    assert.equal(expired.name, 'ExpiredTokenException');
    assert.match(
      (await failure(new STSClient(as).send(new GetCallerIdentityCommand({})))).name,
      /ExpiredToken/,
    );
  });

  test('a request without Authorization is refused', async () => {
    const res = await fetch(`${endpoint}/`, {
      method: 'POST',
      headers: {
        'x-amz-target': 'GraniteServiceVersion20100801.ListMetrics',
        'content-type': 'application/x-amz-json-1.0',
      },
      body: '{}',
    });
    assert.equal(res.status, 403);
    const body = (await res.json()) as { __type: string };
    assert.match(body.__type, /MissingAuthenticationToken/);
    const rest = await fetch(`${endpoint}/2015-03-31/functions`);
    assert.equal(rest.status, 403);
    assert.equal(rest.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  });

  test('accounting lists the IAM actions used', () => {
    const actions = emulator.accounting.snapshot().actions;
    for (const a of [
      'cloudwatch:GetMetricData',
      'cloudwatch:ListMetrics',
      'lambda:ListFunctions',
      'tag:GetResources',
      'apigateway:GET',
      'sts:AssumeRole',
      'cloudtrail:LookupEvents',
    ]) {
      assert.ok(actions.includes(a), a);
    }
  });
});

describe('quotas and injected faults', () => {
  const clock = new ManualClock(T0);
  const emulator = new AwsEmulator({ clock, quotas: { 'cloudwatch:ListMetrics': 2, lambda: 1 } });
  let endpoint = '';
  const config = (region = 'us-east-1', maxAttempts = 1) => ({ endpoint, region, credentials, maxAttempts });

  before(async () => {
    endpoint = await emulator.start();
  });
  after(async () => {
    await emulator.stop();
  });

  test('quotas answer with throttling errors the SDK classifies as throttling', async () => {
    const cw = new CloudWatchClient(config());
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => cw.send(new ListMetricsCommand({ Namespace: 'AWS/Rekognition' }))),
    );
    const rejected = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as ServiceError);
    assert.ok(rejected.length >= 3, `${rejected.length} throttled`);
    for (const e of rejected) {
      assert.equal(e.name, 'Throttling');
      assert.equal(e.$metadata?.httpStatusCode, 400);
      assert.ok(isThrottlingError(e as unknown as Parameters<typeof isThrottlingError>[0]));
    }
    assert.equal(
      emulator.accounting.requests({ operation: 'cloudwatch:ListMetrics', outcome: 'throttled' }),
      rejected.length,
    );
    const lambda = new LambdaClient(config());
    const lambdaResults = await Promise.allSettled(
      [1, 2, 3].map(() => lambda.send(new ListFunctionsCommand({}))),
    );
    const lambdaError = lambdaResults.find((r): r is PromiseRejectedResult => r.status === 'rejected')!
      .reason as ServiceError;
    assert.equal(lambdaError.name, 'TooManyRequestsException');
    assert.equal(lambdaError.$metadata?.httpStatusCode, 429);
  });

  test('the SDK retries an injected throttle and succeeds', async () => {
    let calls = 0;
    emulator.setFaults({
      rules: [{ kind: 'throttle', operation: 'GetMetricStatistics', decide: () => calls++ === 0 }],
    });
    try {
      const cw = new CloudWatchClient(config('us-east-1', 3));
      const s = emulator.world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Invocations', {
        FunctionName: 'my.func',
      })!;
      const out = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: s.namespace,
          MetricName: s.metricName,
          Dimensions: [...s.dimensions],
          StartTime: new Date(T0 - 3600_000),
          EndTime: new Date(T0 - 3000_000),
          Period: 60,
          Statistics: ['Sum'],
        }),
      );
      assert.equal(out.$metadata.attempts, 2);
      assert.equal(out.Datapoints!.length, 10);
    } finally {
      emulator.clearFaults();
    }
  });

  test('injected 500, 503, reset and timeout', async () => {
    const cw = new CloudWatchClient(config());
    const list = () => cw.send(new ListMetricsCommand({ Namespace: 'AWS/Rekognition' }));
    await new Promise((r) => setTimeout(r, 1100)); // refill the ListMetrics quota

    emulator.setFaults({ rules: [{ kind: 'internal-error', operation: 'cloudwatch:ListMetrics' }] });
    const e500 = await failure(list());
    assert.equal(e500.name, 'InternalFailure');
    assert.equal(e500.$fault, 'server');
    assert.ok(isTransientError(e500 as unknown as Parameters<typeof isTransientError>[0]));

    emulator.setFaults({ rules: [{ kind: 'unavailable', rate: 1 }] });
    const e503 = await failure(list());
    assert.equal(e503.$metadata?.httpStatusCode, 503);

    emulator.setFaults({ rules: [{ kind: 'reset' }] });
    const reset = await failure(list());
    assert.match(`${reset.code} ${reset.message}`, /ECONNRESET|socket hang up/);

    emulator.setFaults({ rules: [{ kind: 'timeout' }] });
    const slow = new CloudWatchClient({
      ...config(),
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });
    const timeout = await failure(slow.send(new ListMetricsCommand({ Namespace: 'AWS/Rekognition' })));
    assert.equal(timeout.name, 'TimeoutError');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(emulator.accounting.requests({ outcome: 'timeout' }), 1);
    assert.equal(emulator.accounting.requests({ outcome: 'reset' }), 1);

    emulator.setFaults({ rules: [{ kind: 'timeout', holdMs: 100 }] });
    await new Promise((r) => setTimeout(r, 1000));
    const started = Date.now();
    await list();
    assert.ok(Date.now() - started >= 100);
    emulator.clearFaults();
  });

  test('region down and virtual-time windows; response mutation', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    emulator.setFaults({ rules: [regionDown('eu-west-1')] });
    const eu = await failure(
      new CloudWatchClient(config('eu-west-1')).send(
        new ListMetricsCommand({ Namespace: 'AWS/Rekognition' }),
      ),
    );
    assert.equal(eu.$metadata?.httpStatusCode, 503);
    assert.ok(
      (await new CloudWatchClient(config()).send(new ListMetricsCommand({ Namespace: 'AWS/Rekognition' })))
        .Metrics!.length > 0,
    );

    await new Promise((r) => setTimeout(r, 1100));
    emulator.setFaults({
      rules: [{ kind: 'internal-error', virtualWindow: { fromMs: T0 + 60_000, toMs: T0 + 120_000 } }],
    });
    const cw = new CloudWatchClient(config());
    await cw.send(new ListMetricsCommand({ Namespace: 'AWS/Rekognition' }));
    clock.set(T0 + 60_000);
    assert.equal(
      (await failure(cw.send(new ListMetricsCommand({ Namespace: 'AWS/Rekognition' })))).name,
      'InternalFailure',
    );
    clock.set(T0 + 120_000);

    emulator.setFaults({
      mutateResponse: (target, body) =>
        target.operation === 'GetCallerIdentity'
          ? body.replace(/<Account>\d+/, '<Account>999999999999')
          : undefined,
    });
    assert.equal(
      (await new STSClient(config()).send(new GetCallerIdentityCommand({}))).Account,
      '999999999999',
    );
    emulator.clearFaults();
    clock.set(T0);
  });
});

describe('SQS inventory calls', () => {
  const emulator = new AwsEmulator({
    world: { regions: ['us-east-1'], accounts: [ACCOUNT], sqsQueues: 12, createdAtMs: T0 - 3600_000 },
    clock: new ManualClock(T0),
    quotas: false,
  });
  let sqs: SQSClient;
  before(async () => {
    sqs = new SQSClient({
      endpoint: await emulator.start(),
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
  });
  after(async () => {
    sqs.destroy();
    await emulator.stop();
  });

  test('ListQueues: by name, NextToken only with MaxResults, QueueNamePrefix', async () => {
    const names = emulator.world
      .queues(ACCOUNT, 'us-east-1')
      .map((q) => q.name)
      .sort();
    assert.equal(names.length, 12);
    const all = await sqs.send(new ListQueuesCommand({}));
    assert.equal(all.NextToken, undefined);
    assert.deepEqual(
      all.QueueUrls?.map((url) => url.replace(emulator.endpoint, '')),
      names.map((name) => `/${ACCOUNT}/${name}`),
    );
    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = await sqs.send(new ListQueuesCommand({ MaxResults: 5, NextToken: token }));
      paged.push(...(page.QueueUrls ?? []));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(paged, all.QueueUrls);
    const orders = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders' }));
    assert.deepEqual(orders.QueueUrls, [
      `${emulator.endpoint}/${ACCOUNT}/orders-queue`,
      `${emulator.endpoint}/${ACCOUNT}/orders-queue-10`,
    ]);
  });

  test('ListQueueTags: the queue’s tags, none for an untagged queue, QueueDoesNotExist for others', async () => {
    const [tagged, , untagged] = emulator.world.queues(ACCOUNT, 'us-east-1');
    const url = (name: string, account = ACCOUNT): string => `${emulator.endpoint}/${account}/${name}`;
    assert.deepEqual(
      (await sqs.send(new ListQueueTagsCommand({ QueueUrl: url(tagged!.name) }))).Tags,
      tagged!.tags,
    );
    assert.equal(
      (await sqs.send(new ListQueueTagsCommand({ QueueUrl: url(untagged!.name) }))).Tags,
      undefined,
    );
    for (const missing of [url('nope'), url(tagged!.name, '210987654321')]) {
      const error = await failure(sqs.send(new ListQueueTagsCommand({ QueueUrl: missing })));
      assert.equal(error.name, 'QueueDoesNotExist');
      assert.equal(error.$metadata?.httpStatusCode, 400);
    }
    assert.ok(emulator.accounting.actions.has('sqs:ListQueueTags'));
  });

  test('every queue publishes AWS/SQS series by QueueName', () => {
    const series = emulator.world.series({ namespace: 'AWS/SQS' });
    assert.equal(series.length, 12 * 6);
    assert.ok(series.every((s) => s.dimensions.length === 1 && s.dimensions[0]!.Name === 'QueueName'));
  });
});
