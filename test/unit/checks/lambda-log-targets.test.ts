import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lambdaIntegration } from '../../../checks/amazon_lambda/amazon-lambda.js';
import type { LambdaInventory } from '../../../checks/amazon_lambda/lambda-inventory.js';
import type { RegionContext } from '../../../core/cloudwatch/integration.js';
import {
  lambdaLogTargets,
  lambdaMessageAttributes,
} from '../../../checks/amazon_lambda/lambda-log-targets.js';

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:';
const RID = '8f5cdd3a-6c2e-4a3b-9b1e-2f0e0c6d7a11';

const inventory: LambdaInventory = {
  functions: new Map([
    ['orders', { name: 'orders', arn: `${ARN}orders` }],
    ['billing', { name: 'billing', arn: `${ARN}billing`, logGroup: '/shared/app', logFormat: 'JSON' }],
    ['refunds', { name: 'refunds', arn: `${ARN}refunds`, logGroup: '/shared/app' }],
  ]),
  edgeReplicas: new Map([
    [
      'us-east-1.edge-auth',
      {
        masterName: 'edge-auth',
        masterArn: 'arn:aws:lambda:us-east-1:123456789012:function:edge-auth',
        replica: { name: 'us-east-1.edge-auth', arn: `${ARN}us-east-1.edge-auth` },
      },
    ],
  ]),
  edgeListingAvailable: true,
};

describe('Lambda log groups', () => {
  test('default, custom (read once when shared) and Lambda@Edge groups, labelled like the Forwarder', () => {
    const targets = lambdaLogTargets(inventory, {
      region: 'eu-west-1',
      accountId: '123456789012',
      tagsOf: (name) => [`functionname:${name}`],
    });
    assert.deepEqual(
      targets.map((t) => [t.logGroupName, t.service, t.host]),
      [
        ['/aws/lambda/orders', 'orders', `${ARN}orders`],
        ['/shared/app', 'billing', `${ARN}billing`],
        [
          '/aws/lambda/us-east-1.edge-auth',
          'edge-auth',
          'arn:aws:lambda:us-east-1:123456789012:function:edge-auth',
        ],
      ],
    );
    const orders = targets[0]!;
    assert.equal(orders.ddsource, 'lambda');
    assert.deepEqual(orders.tags, ['functionname:orders']);
    assert.deepEqual(orders.attributes, { lambda: { arn: `${ARN}orders` } });
    const east = lambdaLogTargets(inventory, {
      region: 'us-east-1',
      accountId: '1',
      service: 'shop',
      tagsOf: () => [],
    });
    assert.equal(east.length, 2);
    assert.ok(east.every((t) => t.service === 'shop'));
  });

  test('lambda.request_id from platform lines, the runtime text format and JSON records', () => {
    const expected = { lambda: { request_id: RID } };
    assert.deepEqual(lambdaMessageAttributes(`START RequestId: ${RID} Version: $LATEST\n`), expected);
    assert.deepEqual(lambdaMessageAttributes(`END RequestId: ${RID}\n`), expected);
    assert.deepEqual(
      lambdaMessageAttributes(`REPORT RequestId: ${RID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\n`),
      expected,
    );
    assert.deepEqual(lambdaMessageAttributes(`2026-11-25T12:00:00.123Z\t${RID}\tINFO\tcharged\n`), expected);
    assert.deepEqual(
      lambdaMessageAttributes(JSON.stringify({ type: 'platform.report', record: { requestId: RID } })),
      expected,
    );
    assert.deepEqual(lambdaMessageAttributes(JSON.stringify({ level: 'INFO', requestId: RID })), expected);
    // A timeout and an out-of-memory exit (found missing by the logs acceptance test's attribute check).
    assert.deepEqual(
      lambdaMessageAttributes(`2026-11-25T12:00:03.000Z ${RID} Task timed out after 3.00 seconds`),
      expected,
    );
    assert.deepEqual(
      lambdaMessageAttributes(
        `RequestId: ${RID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError`,
      ),
      expected,
    );
    assert.equal(lambdaMessageAttributes('INIT_START Runtime Version: nodejs:20.v30'), undefined);
    assert.equal(lambdaMessageAttributes('{not json'), undefined);
  });
});

describe('Lambda log groups with enhanced_metrics', () => {
  const report = (id: string) =>
    `REPORT RequestId: ${id}\tDuration: 1500.00 ms\tBilled Duration: 1500 ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB\t`;
  const resources = {
    ...inventory,
    functions: new Map([
      [
        'orders',
        { name: 'orders', arn: `${ARN}orders`, runtime: 'python3.12', architecture: 'arm64', timeout: 30 },
      ],
    ]),
    masterTags: new Map([['arn:aws:lambda:us-east-1:123456789012:function:edge-auth', { team: 'edge' }]]),
    accountId: '123456789012',
  };
  const groups = (enhanced: boolean) =>
    lambdaIntegration.logGroups!(
      resources,
      {
        region: 'eu-west-1',
        accountId: '123456789012',
        config: { enhanced_metrics: enhanced, collect_logs: true },
      } as unknown as RegionContext,
      new Map([[`${ARN}orders`, { Team: 'Orders' }]]),
    );

  test('each group derives its function’s metrics, a replica under its CloudWatch name with its master’s tags', () => {
    assert.ok(
      groups(false).every((g) => g.target.metrics === undefined),
      'off by default',
    );
    const [orders, edge] = groups(true).map((g) => g.target);
    const event = (stream: string) => ({
      eventId: '1',
      timestamp: Date.UTC(2026, 10, 25, 12, 1, 0, 500),
      logStreamName: stream,
      message: report(RID),
    });
    const o = orders!.metrics!.measure(event('2026/11/25/[7]abc'))!;
    assert.deepEqual(o.tags, [
      'functionname:orders',
      'resource:orders',
      'region:eu-west-1',
      'aws_account:123456789012',
      'memorysize:512',
      'cold_start:false',
      'executedversion:7',
      'runtime:python3.12',
      'architecture:arm64',
      'team:orders',
    ]);
    assert.equal(
      o.timeMs,
      Date.UTC(2026, 10, 25, 12, 0, 59),
      'the invocation started 1.5 s before its REPORT',
    );
    assert.equal(orders!.metrics!.spanMs, 41_000, 'its timeout, the init phase (10 s) and a second');
    const e = edge!.metrics!.measure(event('2026/11/25/[$LATEST]abc'))!;
    assert.deepEqual(e.tags.slice(0, 2), [
      'functionname:us-east-1.edge-auth',
      'resource:us-east-1.edge-auth',
    ]);
    for (const t of ['at_edge:true', 'edge_master_name:edge-auth', 'team:edge'])
      assert.ok(e.tags.includes(t), t);
    assert.equal(edge!.metrics!.spanMs, 911_000, 'no timeout known: Lambda’s longest');
    assert.equal(orders!.metrics!.measure({ ...event('s'), message: `START RequestId: ${RID}` }), undefined);
  });
});
