import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BaselineQuery } from '../../../bench/collectors.js';
import {
  buildFloorWork,
  type CapturedExchange,
  FLOOR_MAX_DATAGRAM_BYTES,
  FloorPacker,
  formatResponse,
} from '../../../bench/floor.js';

const T = 1748865600; // 2025-06-02T12:00:00Z

/** A plan of `n` Lambda functions (Sum of Invocations as a count, Maximum of Duration as a gauge), long tags. */
function planOf(n: number): BaselineQuery[] {
  const plan: BaselineQuery[] = [];
  for (let i = 0; i < n; i++) {
    const dimensions = [{ Name: 'FunctionName', Value: `fn-${i}` }];
    const tags = [
      `functionname:fn-${i}`,
      'region:us-east-1',
      'aws_account:123456789012',
      `team:${'x'.repeat(60)}`,
    ];
    plan.push({
      key: `inv-${i}`,
      namespace: 'AWS/Lambda',
      metricName: 'Invocations',
      dimensions,
      statistic: 'Sum',
      rows: [{ name: 'aws.lambda.invocations', type: 'count' }],
      tags,
    });
    plan.push({
      key: `dur-${i}`,
      namespace: 'AWS/Lambda',
      metricName: 'Duration',
      dimensions,
      statistic: 'Maximum',
      rows: [{ name: 'aws.lambda.duration.maximum', type: 'gauge' }],
      tags,
    });
  }
  return plan;
}

/** One GetMetricData exchange per `perRequest` plan queries, with two points per query. */
function exchangesOf(plan: readonly BaselineQuery[], perRequest: number): CapturedExchange[] {
  const out: CapturedExchange[] = [];
  for (let start = 0; start < plan.length; start += perRequest) {
    const batch = plan.slice(start, start + perRequest);
    const request = {
      StartTime: T - 120,
      EndTime: T,
      MetricDataQueries: batch.map((q, i) => ({
        Id: `q${i}`,
        MetricStat: {
          Metric: { Namespace: q.namespace, MetricName: q.metricName, Dimensions: q.dimensions },
          Period: 60,
          Stat: q.statistic,
        },
      })),
    };
    const response = {
      MetricDataResults: batch.map((_, i) => ({
        Id: `q${i}`,
        StatusCode: 'Complete',
        Timestamps: [T - 60, T - 120],
        Values: [start + i + 0.25, i % 2 === 0 ? 1e-7 : 2.5e-8],
      })),
    };
    out.push({
      headers: { 'x-amz-target': 'GraniteServiceVersion20100801.GetMetricData' },
      request: JSON.stringify(request),
      response: JSON.stringify(response),
    });
  }
  return out;
}

/** The lines dogwatch would have sent for these exchanges, written out independently of the floor. */
function dogwatchLines(plan: readonly BaselineQuery[], exchanges: readonly CapturedExchange[]): string[] {
  const lines: string[] = [];
  let q = 0;
  for (const e of exchanges) {
    const response = JSON.parse(e.response) as {
      MetricDataResults: { Timestamps: number[]; Values: number[] }[];
    };
    for (const r of response.MetricDataResults) {
      const query = plan[q++]!;
      const row = query.rows[0]!;
      r.Timestamps.forEach((t, j) => {
        const v = r.Values[j]!;
        // DogStatsD has no exponents: dogwatch writes small values in plain decimals.
        const value = v === 1e-7 ? '0.0000001' : v === 2.5e-8 ? '0.000000025' : String(v);
        // dogwatch's runtime ends every AWS metric's tags with the empty host tag.
        lines.push(
          `${row.name}:${value}|${row.type === 'count' ? 'c' : 'g'}|#${query.tags.join(',')},host:|T${t}`,
        );
      });
    }
  }
  return lines;
}

/** Everything the floor sends in one run of `exchanges`, as datagrams. */
function floorDatagrams(
  plan: readonly BaselineQuery[],
  exchanges: readonly CapturedExchange[],
  lines: readonly string[],
): { datagrams: Buffer[]; points: number; work: ReturnType<typeof buildFloorWork> } {
  const work = buildFloorWork(exchanges, plan, lines);
  const datagrams: Buffer[] = [];
  const packer = new FloorPacker(FLOOR_MAX_DATAGRAM_BYTES, (payload) => datagrams.push(Buffer.from(payload)));
  let points = 0;
  exchanges.forEach((e, i) => {
    points += formatResponse(work.recipes[i]!, JSON.parse(e.response) as never, packer);
  });
  for (const line of work.verbatim) packer.add(line);
  packer.seal();
  return { datagrams, points, work };
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

describe('the bench floor (bench/floor.ts)', () => {
  it('sends exactly the captured lines, formatted from the parsed responses, in datagrams ≤ 1432 bytes', () => {
    const plan = planOf(120);
    const exchanges = exchangesOf(plan, 50);
    const telemetry = ['dogwatch.run.duration:12|g|#check:amazon_lambda', 'dogwatch.points:480|c'];
    const captured = [...dogwatchLines(plan, exchanges), ...telemetry];
    const { datagrams, points, work } = floorDatagrams(plan, exchanges, captured);

    assert.equal(work.requests.length, exchanges.length);
    assert.equal(work.linesFormatted, captured.length - telemetry.length);
    assert.deepEqual(sorted(work.verbatim), sorted(telemetry));
    assert.equal(points, work.linesFormatted);
    assert.ok(datagrams.length > 1, 'the lines fill several datagrams');
    for (const d of datagrams) assert.ok(d.length <= FLOOR_MAX_DATAGRAM_BYTES, `${d.length} bytes`);
    const sent = datagrams.flatMap((d) => d.toString('utf8').split('\n'));
    assert.deepEqual(sorted(sent), sorted(captured));
    // Packed, not one line a datagram: every datagram but the last lacks room for the next line.
    const bytes = datagrams.reduce((n, d) => n + d.length, 0);
    assert.ok(bytes / datagrams.length > FLOOR_MAX_DATAGRAM_BYTES - 200);
  });

  it('formats a point only as often as dogwatch sent it, and reads the values from the response', () => {
    const plan = planOf(4);
    const exchanges = exchangesOf(plan, 8);
    // dogwatch sent the newer point of every query only (the older was sent by an earlier run).
    const captured = dogwatchLines(plan, exchanges).filter((line) => line.endsWith(`|T${T - 60}`));
    const { datagrams, work } = floorDatagrams(plan, exchanges, captured);
    assert.equal(work.linesFormatted, captured.length);
    assert.equal(work.verbatim.length, 0);
    const sent = datagrams.flatMap((d) => d.toString('utf8').split('\n'));
    assert.deepEqual(sorted(sent), sorted(captured));

    // A different value in the response yields a different line: the floor formats, it does not copy.
    const changed = exchanges.map((e) => ({
      ...e,
      response: e.response.replace('"Values":[0.25', '"Values":[7.5'),
    }));
    const packer = new FloorPacker(FLOOR_MAX_DATAGRAM_BYTES, (payload) =>
      datagrams.push(Buffer.from(payload)),
    );
    datagrams.length = 0;
    formatResponse(work.recipes[0]!, JSON.parse(changed[0]!.response) as never, packer);
    packer.seal();
    assert.match(
      datagrams[0]!.toString('utf8'),
      /^aws\.lambda\.invocations:7\.5\|c\|#functionname:fn-0,.*,host:\|T/,
    );
  });

  it('refuses a response whose results moved (results are mapped back by Id)', () => {
    const plan = planOf(2);
    const exchanges = exchangesOf(plan, 4);
    const { work } = floorDatagrams(plan, exchanges, dogwatchLines(plan, exchanges));
    const parsed = JSON.parse(exchanges[0]!.response) as { MetricDataResults: { Id: string }[] };
    parsed.MetricDataResults.reverse();
    const packer = new FloorPacker(FLOOR_MAX_DATAGRAM_BYTES, () => undefined);
    assert.throws(() => formatResponse(work.recipes[0]!, parsed as never, packer), /moved/);
  });
});
