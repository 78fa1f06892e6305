/**
 * CloudWatch over the query protocol (form-encoded requests, XML answers and errors), as AWS CLI v2.9
 * and older SDKs speak it. Before, a form body always went to STS: `InvalidAction … Could not find
 * operation ListMetrics for version 2011-06-15`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { AwsEmulator } from '../../emulator/index.js';
import { decodeQueryInput } from '../../emulator/query-protocol.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0);
let emulator: AwsEmulator;
let endpoint: string;

before(async () => {
  emulator = new AwsEmulator({
    clock: new ManualClock(T0),
    world: { seed: 7, createdAtMs: T0 - 6 * 3600_000 },
  });
  endpoint = await emulator.start();
});
after(() => emulator.stop());

/** A query-protocol POST as the CLI signs it (the emulator reads the credential scope, not the signature). */
async function post(form: Record<string, string>, service = 'monitoring') {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260115/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`,
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

const XMLNS = 'xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"';

test('form fields become the JSON input: member.N lists, numbers and booleans by member name', () => {
  assert.deepEqual(
    decodeQueryInput(
      'Action=GetMetricData&Version=2010-08-01&StartTime=2026-01-15T11%3A00%3A00Z' +
        '&MetricDataQueries.member.1.Id=q1&MetricDataQueries.member.1.ReturnData=false' +
        '&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat=p99' +
        '&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=FunctionName' +
        '&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=60',
    ),
    {
      StartTime: '2026-01-15T11:00:00Z',
      MetricDataQueries: [
        {
          Id: 'q1',
          ReturnData: false,
          MetricStat: {
            Period: 60,
            Stat: 'p99',
            Metric: { Dimensions: [{ Name: 'FunctionName', Value: '60' }] },
          },
        },
      ],
    },
  );
});

test("ListMetrics answers in XML, in CloudWatch's shape", async () => {
  const answer = await post({
    Action: 'ListMetrics',
    Version: '2010-08-01',
    Namespace: 'AWS/Lambda',
    MetricName: 'Invocations',
    'Dimensions.member.1.Name': 'FunctionName',
  });
  assert.equal(answer.status, 200, answer.body);
  assert.equal(answer.type, 'text/xml');
  assert.ok(answer.body.startsWith(`<ListMetricsResponse ${XMLNS}><ListMetricsResult><Metrics><member>`));
  assert.match(
    answer.body,
    /<member><Namespace>AWS\/Lambda<\/Namespace><MetricName>Invocations<\/MetricName><Dimensions><member><Name>FunctionName<\/Name><Value>[^<]+<\/Value><\/member>/,
  );
  assert.match(
    answer.body,
    /<ResponseMetadata><RequestId>[\w-]+<\/RequestId><\/ResponseMetadata><\/ListMetricsResponse>$/,
  );
});

test('GetMetricData and GetMetricStatistics: ISO 8601 timestamps, member lists, entry maps', async () => {
  const fn = emulator.world.seriesIn('123456789012', 'us-east-1').find((s) => s.metricName === 'Duration')!;
  const dimensions = Object.fromEntries(
    fn.dimensions.flatMap((d, i) => [
      [`Dimensions.member.${i + 1}.Name`, d.Name],
      [`Dimensions.member.${i + 1}.Value`, d.Value],
    ]),
  );
  const window = { StartTime: '2026-01-15T11:00:00Z', EndTime: '2026-01-15T11:10:00Z' };
  const data = await post({
    Action: 'GetMetricData',
    Version: '2010-08-01',
    ...window,
    'MetricDataQueries.member.1.Id': 'q1',
    'MetricDataQueries.member.1.MetricStat.Metric.Namespace': fn.namespace,
    'MetricDataQueries.member.1.MetricStat.Metric.MetricName': fn.metricName,
    ...Object.fromEntries(
      Object.entries(dimensions).map(([k, v]) => [`MetricDataQueries.member.1.MetricStat.Metric.${k}`, v]),
    ),
    'MetricDataQueries.member.1.MetricStat.Period': '60',
    'MetricDataQueries.member.1.MetricStat.Stat': 'Average',
  });
  assert.equal(data.status, 200, data.body);
  assert.match(
    data.body,
    /<GetMetricDataResult><MetricDataResults><member><Id>q1<\/Id><Label>Duration<\/Label><Timestamps><member>2026-01-15T11:09:00Z<\/member>/,
  );
  assert.match(data.body, /<Values><member>[\d.]+<\/member>/);
  assert.match(data.body, /<StatusCode>Complete<\/StatusCode>/);

  const stats = await post({
    Action: 'GetMetricStatistics',
    Version: '2010-08-01',
    ...window,
    Namespace: fn.namespace,
    MetricName: fn.metricName,
    ...dimensions,
    Period: '300',
    'ExtendedStatistics.member.1': 'p99',
  });
  assert.equal(stats.status, 200, stats.body);
  assert.match(
    stats.body,
    /<Datapoints><member><Timestamp>2026-01-15T11:0[05]:00Z<\/Timestamp><Unit>Milliseconds<\/Unit><ExtendedStatistics><entry><key>p99<\/key><value>[\d.]+<\/value><\/entry><\/ExtendedStatistics><\/member>/,
  );
});

test('errors are CloudWatch XML errors; STS still answers its own query calls', async () => {
  const error = await post({ Action: 'ListMetrics', Version: '2010-08-01', RecentlyActive: 'PT1H' });
  assert.equal(error.status, 400);
  assert.equal(error.type, 'text/xml');
  assert.match(
    error.body,
    new RegExp(
      `^<ErrorResponse ${XMLNS}><Error><Type>Sender</Type><Code>InvalidParameterValue</Code><Message>The parameter RecentlyActive must be PT3H.</Message></Error><RequestId>`,
    ),
  );
  const unknown = await post({ Action: 'PutMetricAlarm', Version: '2010-08-01' });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body, /<Code>InvalidAction<\/Code><Message>Operation PutMetricAlarm is not supported/);
  const sts = await post({ Action: 'GetCallerIdentity', Version: '2011-06-15' }, 'sts');
  assert.match(
    sts.body,
    /<GetCallerIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">/,
  );
});
