import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAMBDA_FUNCTION_METRICS, REST_API_METRICS } from '../../emulator/catalog.js';
import { readStatistic } from '../../emulator/datapoints.js';
import { SMALL_WORLD, World, type Series } from '../../emulator/world.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0);
const world = new World(SMALL_WORLD);
const ACCOUNT = '123456789012';

function dims(s: Series): Record<string, string> {
  return Object.fromEntries(s.dimensions.map((d) => [d.Name, d.Value]));
}

test('small world: shape and every contract metric at its dimension level', () => {
  const us = world.seriesIn(ACCOUNT, 'us-east-1');
  const fnNames = world.functions(ACCOUNT, 'us-east-1').map((f) => f.name);
  assert.equal(fnNames.length, 6);
  assert.ok(fnNames.includes('my.func'));
  assert.ok(world.functions(ACCOUNT, 'us-east-1').some((f) => f.isEdgeMaster && f.name === 'edge-auth'));
  // Every function-scope Lambda metric exists for some function.
  for (const m of LAMBDA_FUNCTION_METRICS) {
    assert.ok(
      us.some(
        (s) =>
          s.metricName === m.name && s.dimensions.length === 1 && s.dimensions[0]!.Name === 'FunctionName',
      ),
      m.name,
    );
  }
  for (const name of [
    'ConcurrentExecutions',
    'UnreservedConcurrentExecutions',
    'ClaimedAccountConcurrency',
  ]) {
    assert.ok(world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', name), name);
  }
  assert.ok(us.some((s) => s.dimensions.some((d) => d.Name === 'Resource')));
  assert.ok(us.some((s) => s.dimensions.some((d) => d.Name === 'ExecutedVersion')));
  assert.ok(us.some((s) => s.dimensions.some((d) => d.Name === 'EventSourceMappingUUID')));
  // Edge replicas publish under us-east-1.<name> in their regions, not in us-east-1.
  for (const region of ['eu-west-1', 'ap-northeast-1', 'us-west-2']) {
    assert.ok(
      world.find(ACCOUNT, region, 'AWS/Lambda', 'Invocations', { FunctionName: 'us-east-1.edge-auth' }),
      region,
    );
    assert.equal(
      world.edgeReplicas(ACCOUNT, region)[0]?.masterArn,
      `arn:aws:lambda:us-east-1:${ACCOUNT}:function:edge-auth`,
    );
  }
  assert.equal(
    world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Invocations', { FunctionName: 'us-east-1.edge-auth' }),
    undefined,
  );
  // API Gateway: API-only, stage and detailed series; Rekognition per operation.
  const rest = world.apis(ACCOUNT, 'us-east-1', 'REST')[0]!;
  assert.ok(world.find(ACCOUNT, 'us-east-1', 'AWS/ApiGateway', 'Count', { ApiName: rest.name }));
  assert.ok(
    world.find(ACCOUNT, 'us-east-1', 'AWS/ApiGateway', '4XXError', {
      ApiName: rest.name,
      Stage: 'prod',
      Resource: '/items',
      Method: 'GET',
    }),
  );
  const http = world.apis(ACCOUNT, 'us-east-1', 'HTTP')[0]!;
  assert.ok(
    world.find(ACCOUNT, 'us-east-1', 'AWS/ApiGateway', '4xx', {
      ApiId: http.id,
      Stage: '$default',
      Route: 'GET /items',
    }),
  );
  const ws = world.apis(ACCOUNT, 'us-east-1', 'WEBSOCKET')[0]!;
  assert.ok(
    world.find(ACCOUNT, 'us-east-1', 'AWS/ApiGateway', 'ConnectCount', {
      ApiId: ws.id,
      Stage: 'production',
      Route: '$connect',
    }),
  );
  assert.ok(
    world.find(ACCOUNT, 'us-east-1', 'AWS/Rekognition', 'DetectedLabelCount', { Operation: 'DetectLabels' }),
  );
  assert.equal(
    world.find(ACCOUNT, 'us-east-1', 'AWS/Rekognition', 'DetectedLabelCount', { Operation: 'DetectFaces' }),
    undefined,
  );
});

test('the world is deterministic: same options, same series and values', () => {
  const other = new World(SMALL_WORLD);
  assert.deepEqual(
    other.series().map((s) => s.key),
    world.series().map((s) => s.key),
  );
  const s = world.series()[7]!;
  assert.deepEqual(other.datapoint(other.series()[7]!, T0, 300)?.Sum, world.datapoint(s, T0, 300)?.Sum);
});

test('statistics agree with each other, and longer periods aggregate the minutes', () => {
  const duration = world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Duration', {
    FunctionName: 'orders-handler',
  })!;
  for (const period of [60, 300, 3600]) {
    const p = world.datapoint(duration, T0, period)!;
    assert.ok(Math.abs(p.Sum - p.Average * p.SampleCount) < 1e-6 * p.Sum);
    let last = p.Minimum;
    for (const q of [1, 10, 50, 90, 99, 99.9, 100]) {
      const v = p.percentile(q);
      assert.ok(v >= last - 1e-9 && v <= p.Maximum + 1e-9, `p${q}=${v} in [${last}, ${p.Maximum}]`);
      last = v;
    }
  }
  const five = world.datapoint(duration, T0, 300)!;
  const minutes = [0, 1, 2, 3, 4].map((i) => world.datapoint(duration, T0 + i * 60_000, 60)!);
  assert.equal(
    five.SampleCount,
    minutes.reduce((a, m) => a + m.SampleCount, 0),
  );
  assert.ok(Math.abs(five.Sum - minutes.reduce((a, m) => a + m.Sum, 0)) < 1e-6);
  assert.equal(five.Maximum, Math.max(...minutes.map((m) => m.Maximum)));
  assert.equal(five.Minimum, Math.min(...minutes.map((m) => m.Minimum)));
  assert.equal(readStatistic(five, 'p99.9'), five.percentile(99.9));
});

test('counted series: Errors is sparse and its samples are invocations', () => {
  const errors = world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Errors', {
    FunctionName: 'orders-handler',
  })!;
  const invocations = world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Invocations', {
    FunctionName: 'orders-handler',
  })!;
  let missing = 0;
  for (let i = 0; i < 120; i++) {
    const t = T0 + i * 60_000;
    const e = world.datapoint(errors, t, 60);
    const inv = world.datapoint(invocations, t, 60)!;
    assert.equal(inv.Sum, inv.SampleCount);
    if (!e) missing++;
    else {
      // Errors samples are the invocations of the versions that had errors that minute.
      assert.ok(e.SampleCount <= inv.SampleCount);
      assert.ok(e.Sum >= 1 && e.Sum <= e.SampleCount);
    }
  }
  assert.ok(missing > 20 && missing < 110, `missing ${missing}`);
});

test('REST stage totals equal the detailed series when fully detailed, exceed them when partly', () => {
  const [full, partial] = world.apis(ACCOUNT, 'us-east-1', 'REST');
  for (const [api, expectEqual] of [
    [full!, true],
    [partial!, false],
  ] as const) {
    for (const metric of REST_API_METRICS.filter((m) => m.profile.shape !== 'dist')) {
      const stage = world.find(ACCOUNT, 'us-east-1', 'AWS/ApiGateway', metric.name, {
        ApiName: api.name,
        Stage: 'prod',
      })!;
      const detailed = world
        .seriesIn(ACCOUNT, 'us-east-1')
        .filter(
          (s) =>
            s.metricName === metric.name &&
            dims(s)['ApiName'] === api.name &&
            dims(s)['Stage'] === 'prod' &&
            s.dimensions.length === 4,
        );
      assert.ok(detailed.length > 0);
      const total = world.datapoint(stage, T0, 300)!;
      const sampleSum = detailed.reduce((a, s) => a + (world.datapoint(s, T0, 300)?.SampleCount ?? 0), 0);
      const sum = detailed.reduce((a, s) => a + (world.datapoint(s, T0, 300)?.Sum ?? 0), 0);
      if (expectEqual) {
        assert.equal(total.SampleCount, sampleSum, `${api.name} ${metric.name}`);
        assert.equal(total.Sum, sum);
      } else {
        assert.ok(total.SampleCount > sampleSum, `${api.name} ${metric.name}`);
      }
    }
  }
});

test('publication delay: base + jitter in [0, jitter], visibility filters minutes', () => {
  const s = world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Invocations', {
    FunctionName: 'orders-handler',
  })!;
  const jitters = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const t = T0 + i * 60_000;
    const delay = world.publicationDelayMs(s, t);
    assert.ok(delay >= 60_000 && delay <= 120_000);
    jitters.add(delay);
    assert.equal(world.visibleAt(s, t), t + 60_000 + delay);
    assert.equal(world.datapoint(s, t, 60, world.visibleAt(s, t) - 1), undefined);
    assert.deepEqual(world.datapoint(s, t, 60, world.visibleAt(s, t))?.Sum, world.datapoint(s, t, 60)?.Sum);
  }
  assert.ok(jitters.size > 10);
});

// How long it takes is measured by the benchmark (its world build time), not asserted here.
test('a 100k-query world builds', () => {
  const big = new World({
    functions: 2500,
    restApis: 50,
    httpApis: 50,
    websocketApis: 20,
    regions: ['us-east-1'],
  });
  const series = big.series();
  assert.ok(series.length * 3 >= 100_000, `${series.length} series`);
});
