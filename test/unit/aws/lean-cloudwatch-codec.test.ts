import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type Dimension,
  type GetMetricDataInput,
  ListMetricsCommand,
  type Metric,
} from '@aws-sdk/client-cloudwatch';
import {
  decodeGetMetricDataOutput,
  decodeListMetricsOutput,
  EPOCH_SECONDS,
  useLeanCloudWatchCodec,
} from '../../../core/aws/lean-cloudwatch-codec.js';
import {
  encodeGetMetricDataInput,
  MetricStatQuery,
  withQueryId,
} from '../../../core/aws/get-metric-data-request.js';
import { requestMetricData } from '../../../core/cloudwatch/metric-data-fetcher.js';
import { ManualClock } from '../../../core/clock.js';
import { AwsEmulator } from '../../../emulator/index.js';
import { useEmulatorCredentials } from '../../support/collection-harness.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 30);
const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

describe('lean CloudWatch codec', () => {
  let emulator: AwsEmulator;
  let endpoint: string;
  before(async () => {
    useEmulatorCredentials();
    emulator = new AwsEmulator({
      world: {
        accounts: ['123456789012'],
        regions: ['us-east-1'],
        edgeReplicaRegions: [],
        functions: 6,
        createdAtMs: T0 - 6 * 3_600_000,
      },
      clock: new ManualClock(T0),
    });
    endpoint = await emulator.start();
  });
  after(() => emulator.stop());

  const client = (lean: boolean): { client: CloudWatchClient; bodies: string[] } => {
    const c = new CloudWatchClient({ region: 'us-east-1', endpoint, maxAttempts: 1 });
    if (lean) useLeanCloudWatchCodec(c);
    const bodies: string[] = [];
    c.middlewareStack.add(
      (next) => async (args) => {
        const body = (args.request as { body?: unknown }).body;
        bodies.push(typeof body === 'string' ? body : new TextDecoder().decode(body as Uint8Array));
        return next(args);
      },
      { step: 'build', name: 'bodySpy' },
    );
    return { client: c, bodies };
  };

  test('sends the same request and reads back the same output as the SDK’s own serde', async () => {
    const sdk = client(false);
    const lean = client(true);
    const { Metrics = [] } = await sdk.client.send(new ListMetricsCommand({ Namespace: 'AWS/Lambda' }));
    assert.ok(Metrics.length > 50);
    const input: GetMetricDataInput = {
      MetricDataQueries: Metrics.slice(0, 80).map((m, i) => ({
        Id: `q${i}`,
        MetricStat: {
          Metric: { Namespace: 'AWS/Lambda', MetricName: m.MetricName, Dimensions: m.Dimensions },
          Period: 60,
          Stat: i % 3 === 0 ? 'p99' : 'Sum',
        },
        ReturnData: true,
      })),
      StartTime: new Date(T0 - 3_600_000),
      EndTime: new Date(T0 - 120_000),
      ScanBy: 'TimestampAscending',
    };
    const expected = await sdk.client.send(new GetMetricDataCommand(input));
    const actual = await lean.client.send(new GetMetricDataCommand(input));
    assert.deepEqual(JSON.parse(lean.bodies[0]!), JSON.parse(sdk.bodies[1]!));
    const { $metadata: m1, ...rest1 } = expected;
    const { $metadata: m2, ...rest2 } = actual;
    assert.deepEqual(rest2, rest1);
    assert.ok((rest1.MetricDataResults ?? []).some((r) => (r.Timestamps ?? []).length > 0));
    assert.equal(m2.httpStatusCode, m1.httpStatusCode);
    assert.ok(m2.requestId);
  });

  test('a MetricStatQuery is sent as its plain shape: same bytes from the SDK’s serde, same answer', async () => {
    class Query extends MetricStatQuery {
      constructor(
        readonly Id: string,
        readonly metric: Metric,
        readonly period: number,
        readonly statistic: string,
        // Fields of the caller's own: never on the wire.
        readonly cursor = `cursor of ${Id}`,
      ) {
        super();
      }
    }
    const sdk = client(false);
    const lean = client(true);
    const { Metrics = [] } = await sdk.client.send(new ListMetricsCommand({ Namespace: 'AWS/Lambda' }));
    const queries = Metrics.slice(0, 40).map((m, i) => {
      const metric = Object.freeze({
        Namespace: 'AWS/Lambda',
        MetricName: m.MetricName,
        Dimensions: m.Dimensions,
      });
      return new Query(`q${i}`, metric, i % 2 === 0 ? 60 : 300, i % 3 === 0 ? 'p99' : 'Sum');
    });
    const window = { StartTime: new Date(T0 - 3_600_000), EndTime: new Date(T0 - 120_000) };
    const plain: GetMetricDataInput = {
      MetricDataQueries: queries.map((q) => ({ Id: q.Id, MetricStat: q.MetricStat, ReturnData: true })),
      ...window,
    };
    const expected = await sdk.client.send(new GetMetricDataCommand(plain));
    const bySdk = await sdk.client.send(new GetMetricDataCommand({ MetricDataQueries: queries, ...window }));
    const byLean = await lean.client.send(
      new GetMetricDataCommand({ MetricDataQueries: queries, ...window }),
    );
    assert.equal(sdk.bodies[2], sdk.bodies[1], 'the SDK writes the query from its getters');
    assert.equal(lean.bodies[0], sdk.bodies[1]);
    assert.ok(!lean.bodies[0]!.includes('cursor of'), 'fields of its own stay off the wire');
    assert.equal(
      Buffer.from(encodeGetMetricDataInput({ MetricDataQueries: queries, ...window })!).toString(),
      JSON.stringify({
        MetricDataQueries: plain.MetricDataQueries,
        StartTime: T0 / 1000 - 3600,
        EndTime: T0 / 1000 - 120,
      }),
    );
    for (const answer of [bySdk, byLean])
      assert.deepEqual(answer.MetricDataResults, expected.MetricDataResults);
    assert.ok((expected.MetricDataResults ?? []).some((r) => (r.Timestamps ?? []).length > 0));
    assert.deepEqual(withQueryId(queries[3]!, 's0'), {
      Id: 's0',
      MetricStat: queries[3]!.MetricStat,
      ReturnData: true,
    });
  });

  test('ListMetrics reads back the same output as the SDK’s own serde', async () => {
    const sdk = client(false);
    const lean = client(true);
    const protocol = (lean.client.config as unknown as { protocol: Record<string, unknown> }).protocol;
    const bodiesLeftToSdk: number[] = [];
    const sdkDeserialize = (Object.getPrototypeOf(protocol) as Record<string, unknown>)
      .deserializeResponse as (...args: unknown[]) => Promise<unknown>;
    // The lean path must answer itself: the SDK's deserializer only ever sees the empty body it is
    // handed for $metadata, never the page.
    (Object.getPrototypeOf(protocol) as Record<string, unknown>).deserializeResponse = function (
      this: unknown,
      ...args: unknown[]
    ) {
      bodiesLeftToSdk.push((args[2] as { body: Uint8Array }).body.byteLength);
      return sdkDeserialize.apply(this, args);
    };
    try {
      for (const input of [
        { Namespace: 'AWS/Lambda' },
        { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName' }] },
        { Namespace: 'AWS/Nothing' },
      ]) {
        const expected = await sdk.client.send(new ListMetricsCommand(input));
        const actual = await lean.client.send(new ListMetricsCommand(input));
        const { $metadata: m1, ...rest1 } = expected;
        const { $metadata: m2, ...rest2 } = actual;
        assert.deepEqual(rest2, rest1, JSON.stringify(input));
        assert.equal(m2.httpStatusCode, m1.httpStatusCode);
        assert.ok(m2.requestId);
        if (input.Namespace === 'AWS/Lambda' && !input.MetricName)
          assert.ok((rest1.Metrics ?? []).length > 50, 'a real page was compared');
      }
    } finally {
      (Object.getPrototypeOf(protocol) as Record<string, unknown>).deserializeResponse = sdkDeserialize;
    }
    // Three pages, each decoded by the codec: the SDK only ever got the empty body.
    assert.deepEqual(bodiesLeftToSdk, [0, 0, 0]);
  });

  test('a caller asking for epoch seconds gets the same points as the SDK decodes, as numbers', async () => {
    const sdk = client(false);
    const lean = client(true);
    const { Metrics = [] } = await sdk.client.send(new ListMetricsCommand({ Namespace: 'AWS/Lambda' }));
    const queries = Metrics.slice(0, 60).map((m, i) => ({
      Id: `q${i}`,
      MetricStat: { Metric: Object.freeze({ ...m }), Period: 60, Stat: i % 2 === 0 ? 'Average' : 'Sum' },
      ReturnData: true,
    }));
    const input = {
      MetricDataQueries: queries,
      StartTime: new Date(T0 - 3_600_000),
      EndTime: new Date(T0 - 120_000),
      ScanBy: 'TimestampAscending' as const,
    };
    const expected = await sdk.client.send(new GetMetricDataCommand(input));
    const asked = await lean.client.send(
      new GetMetricDataCommand(Object.assign({ [EPOCH_SECONDS]: true }, input)),
    );
    const seconds = (asked.MetricDataResults ?? []).map((r) => ({ id: r.Id, t: r.Timestamps, v: r.Values }));
    const dates = (expected.MetricDataResults ?? []).map((r) => ({
      id: r.Id,
      t: (r.Timestamps ?? []).map((d) => d.getTime() / 1000),
      v: r.Values,
    }));
    assert.deepEqual(seconds, dates);
    assert.ok(dates.reduce((n, r) => n + r.t.length, 0) > 500, 'the window holds points');
    // Without the mark the same client still decodes Dates, as the SDK does.
    const plain = await lean.client.send(new GetMetricDataCommand(input));
    assert.ok(plain.MetricDataResults?.some((r) => r.Timestamps?.[0] instanceof Date));
    // requestMetricData asks for seconds, and reads the same ms either way.
    const signal = new AbortController().signal;
    const viaLean = await requestMetricData(
      lean.client,
      queries,
      T0 - 3_600_000,
      T0 - 120_000,
      signal,
      () => {},
    );
    const viaSdk = await requestMetricData(
      sdk.client,
      queries,
      T0 - 3_600_000,
      T0 - 120_000,
      signal,
      () => {},
    );
    assert.deepEqual(viaLean.results, viaSdk.results);
    assert.deepEqual(
      viaSdk.results.map((r) => r.timestamps),
      dates.map((r) => r.t.map((t) => t * 1000)),
    );
  });

  test('writes a request exactly as JSON.stringify would, dimension JSON cached only for frozen dimensions', () => {
    const metric = Object.freeze({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: Object.freeze([Object.freeze({ Name: 'FunctionName', Value: 'a"b\\c\u2028é' })]),
    });
    const unfrozen = {
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Count',
      Dimensions: [{ Name: 'ApiName', Value: 'x' }],
    };
    const queries: unknown[] = [
      { Id: 'a', MetricStat: { Metric: metric, Period: 60, Stat: 'Sum' }, ReturnData: true },
      {
        Id: 'b',
        MetricStat: { Metric: metric, Period: 60, Stat: 'p99', Unit: 'Count' },
        Label: 'L',
        ReturnData: false,
      },
      { Id: 'c', MetricStat: { Metric: unfrozen, Period: 300, Stat: 'Average' }, AccountId: '123456789012' },
      { Id: 'd', Expression: 'SUM(METRICS())', Period: 60, ReturnData: undefined, MetricStat: undefined },
      { Id: 'e', MetricStat: { Metric: metric, Period: 60, Stat: 'Sum', toJSON: undefined } },
      { Id: 'f', MetricStat: { toJSON: () => 'custom' } },
      { toJSON: () => ({ Id: 'g' }) },
      // Members in another order, or one missing: not the usual Metric.
      {
        Id: 'h"\u0001',
        MetricStat: { Metric: { MetricName: 'M', Namespace: 'N', Dimensions: [] }, Stat: 'Sum' },
      },
      { Id: 'i', MetricStat: { Metric: { Namespace: 'N', MetricName: 'M\ud800' }, Period: 60, Stat: 'Sum' } },
    ];
    const input = {
      MetricDataQueries: queries,
      StartTime: new Date(1_500),
      EndTime: new Date(60_000),
      ScanBy: 'TimestampAscending',
      NextToken: undefined,
    };
    const expected = JSON.stringify({ ...input, StartTime: 1.5, EndTime: 60 });
    assert.equal(encodeGetMetricDataInput(input)!.toString('utf8'), expected);
    // Twice: the second time from the cache, the same bytes; a changed unfrozen Metric is written anew.
    unfrozen.MetricName = 'Latency';
    unfrozen.Dimensions[0]!.Value = 'y';
    assert.equal(
      encodeGetMetricDataInput(input)!.toString('utf8'),
      JSON.stringify({ ...input, StartTime: 1.5, EndTime: 60 }),
    );
    assert.notEqual(JSON.stringify({ ...input, StartTime: 1.5, EndTime: 60 }), expected);
  });

  test('a body of many queries is written byte for byte as JSON.stringify would: non-ASCII, escapes, growth', () => {
    class Query extends MetricStatQuery {
      constructor(
        readonly Id: string,
        readonly metric: Metric,
        readonly period: number,
        readonly statistic: string,
      ) {
        super();
      }
    }
    // Names past ASCII, a DEL (written as it is), escapes (quotes, backslashes, controls, lone surrogates)
    // at the start, middle and end of a piece; a body several times the writer's first 64 KB.
    const odd = [
      'plain',
      'ü-first',
      'mid-ü-dle',
      'end-€',
      'del-\u007f',
      'q"uote',
      'back\\slash',
      'ctl\u0002',
      'emoji-😀',
      'lone-\udc00',
    ];
    const queries = Array.from({ length: 2_000 }, (_, i) => {
      const name = odd[i % odd.length]!;
      const dimension = { Name: 'FunctionName', Value: `${name}-${'x'.repeat(i % 97)}` };
      const metric: Metric = {
        Namespace: i % 3 === 0 ? `Custom/${name}` : 'AWS/Lambda',
        MetricName: i % 5 === 0 ? name : 'Invocations',
        Dimensions: i % 2 === 0 ? (Object.freeze([Object.freeze(dimension)]) as Dimension[]) : [dimension],
      };
      return new Query(
        i % 7 === 0 ? `q${name}${i}` : `q${i.toString(36)}`,
        metric,
        60,
        i % 4 === 0 ? name : 'Sum',
      );
    });
    const input = { MetricDataQueries: queries, StartTime: new Date(60_000), EndTime: new Date(120_000) };
    const plain = queries.map((q) => ({
      Id: q.Id,
      MetricStat: { Metric: q.metric, Period: q.period, Stat: q.statistic },
      ReturnData: true,
    }));
    const expected = JSON.stringify({ MetricDataQueries: plain, StartTime: 60, EndTime: 120 });
    assert.ok(Buffer.byteLength(expected) > 4 * 64 * 1024);
    assert.equal(encodeGetMetricDataInput(input)!.toString('utf8'), expected);
    // The writer is reused: a smaller body next is not left with the larger one's tail.
    const small = {
      MetricDataQueries: queries.slice(0, 3),
      StartTime: new Date(60_000),
      EndTime: new Date(120_000),
    };
    assert.equal(
      encodeGetMetricDataInput(small)!.toString('utf8'),
      JSON.stringify({ MetricDataQueries: plain.slice(0, 3), StartTime: 60, EndTime: 120 }),
    );
  });

  test('input it does not know is left to the SDK', () => {
    assert.equal(encodeGetMetricDataInput({ MetricDataQueries: [], StartTime: 1, EndTime: 2 }), undefined);
    assert.equal(
      encodeGetMetricDataInput({
        MetricDataQueries: [],
        StartTime: new Date(0),
        EndTime: new Date(0),
        Extra: 1,
      }),
      undefined,
    );
    assert.deepEqual(
      JSON.parse(
        encodeGetMetricDataInput({
          MetricDataQueries: [],
          StartTime: new Date(1_500),
          EndTime: new Date(60_000),
        })!.toString('utf8'),
      ),
      { MetricDataQueries: [], StartTime: 1.5, EndTime: 60 },
    );
  });

  test('decodes the expected shape as the SDK does: Dates, null members left out, unknown members dropped', () => {
    assert.deepEqual(
      decodeGetMetricDataOutput(
        bytes({
          MetricDataResults: [
            {
              Id: 'q0',
              Label: 'x',
              Timestamps: [1_767_614_400, 1_767_614_460.5],
              Values: [1, 2.5],
              StatusCode: 'Complete',
              Messages: [{ Code: 'C', Value: null }],
              Future: 1,
            },
          ],
          NextToken: null,
          Messages: [],
        }),
      ),
      {
        MetricDataResults: [
          {
            Id: 'q0',
            Label: 'x',
            Timestamps: [new Date(1_767_614_400_000), new Date(1_767_614_460_500)],
            Values: [1, 2.5],
            StatusCode: 'Complete',
            Messages: [{ Code: 'C' }],
          },
        ],
        Messages: [],
      },
    );
  });

  test('anything unusual is left to the SDK (returns undefined)', () => {
    for (const body of [
      { MetricDataResults: {} },
      { MetricDataResults: [{ Id: 7 }] },
      { MetricDataResults: [{ Id: 'q0', Values: ['NaN'] }] },
      { MetricDataResults: [{ Id: 'q0', Values: [null] }] },
      { MetricDataResults: [{ Id: 'q0', Timestamps: ['2026-01-01T00:00:00Z'] }] },
      { MetricDataResults: [{ __type: 'x', Id: 'q0' }] },
      { __type: 'x' },
      [],
      'text',
    ])
      assert.equal(decodeGetMetricDataOutput(bytes(body)), undefined, JSON.stringify(body));
    assert.equal(decodeGetMetricDataOutput(new Uint8Array(0)), undefined);
    assert.equal(decodeGetMetricDataOutput(new TextEncoder().encode('{"MetricDataResults": [')), undefined);
  });

  test('decodes ListMetrics as the SDK does: null members left out, unknown members dropped', () => {
    assert.deepEqual(
      decodeListMetricsOutput(
        bytes({
          Metrics: [
            {
              Namespace: 'AWS/Lambda',
              MetricName: 'Errors',
              Dimensions: [
                { Name: 'FunctionName', Value: 'f', Extra: 1 },
                { Name: 'Resource', Value: null },
              ],
              Future: { x: 1 },
            },
            { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: null },
          ],
          NextToken: null,
          OwningAccounts: ['123456789012'],
          Future: 2,
        }),
      ),
      {
        Metrics: [
          {
            Namespace: 'AWS/Lambda',
            MetricName: 'Errors',
            Dimensions: [{ Name: 'FunctionName', Value: 'f' }, { Name: 'Resource' }],
          },
          { Namespace: 'AWS/Lambda', MetricName: 'Invocations' },
        ],
        OwningAccounts: ['123456789012'],
      },
    );
  });

  test('members named like Object.prototype properties are dropped as unknown, not decoded', () => {
    const text =
      '{"Metrics":[],"constructor":1,"toString":"x","__proto__":{"NextToken":1},"hasOwnProperty":[]}';
    assert.deepEqual(decodeListMetricsOutput(new TextEncoder().encode(text)), { Metrics: [] });
    assert.deepEqual(
      decodeGetMetricDataOutput(new TextEncoder().encode(text.replace('Metrics', 'MetricDataResults'))),
      { MetricDataResults: [] },
    );
  });

  test('an unusual ListMetrics page is left to the SDK (returns undefined)', () => {
    for (const body of [
      { Metrics: {} },
      { Metrics: [null] },
      { Metrics: [{ MetricName: 7 }] },
      { Metrics: [{ MetricName: 'Errors', Dimensions: {} }] },
      { Metrics: [{ MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 1 }] }] },
      { Metrics: [{ MetricName: 'Errors', Dimensions: ['FunctionName'] }] },
      { Metrics: [], NextToken: 5 },
      { Metrics: [], OwningAccounts: [1] },
      { __type: 'x' },
      [],
    ])
      assert.equal(decodeListMetricsOutput(bytes(body)), undefined, JSON.stringify(body));
    assert.equal(decodeListMetricsOutput(new TextEncoder().encode('{"Metrics": [')), undefined);
  });
});

describe('lean CloudWatch codec: where it applies', () => {
  test('installs on this SDK (AWS JSON 1.0), once; a protocol it does not know is left alone', () => {
    const c = new CloudWatchClient({ region: 'us-east-1' });
    const config = c.config as unknown as { protocol: object };
    const sdkProtocol = config.protocol;
    useLeanCloudWatchCodec(c);
    // If an SDK update changes how CloudWatch is spoken, this fails: the codec silently stood aside.
    assert.notEqual(config.protocol, sdkProtocol, 'installed in front of the SDK protocol');
    const installed = config.protocol;
    useLeanCloudWatchCodec(c);
    assert.equal(config.protocol, installed, 'idempotent');

    const other = new CloudWatchClient({ region: 'us-east-1' });
    const otherConfig = other.config as unknown as { protocol: object };
    const cbor = Object.assign(Object.create(otherConfig.protocol) as object, {
      getShapeId: () => 'smithy.protocols#rpcv2Cbor',
    });
    otherConfig.protocol = cbor;
    useLeanCloudWatchCodec(other);
    assert.equal(otherConfig.protocol, cbor, 'another protocol keeps the SDK serde');
  });
});
