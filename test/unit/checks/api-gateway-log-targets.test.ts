import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accessLog } from '../../../checks/amazon_api_gateway/api-gateway-inventory.js';
import {
  apiGatewayLogGroups,
  jsonAccessLogAttributes,
} from '../../../checks/amazon_api_gateway/api-gateway-log-targets.js';
import type { ApiGatewayInventory } from '../../../checks/amazon_api_gateway/api-gateway-inventory.js';
import type { RegionContext } from '../../../core/cloudwatch/integration.js';

const ACCOUNT = '123456789012';

describe('API Gateway access-log groups', () => {
  test('the group, region and account of a stage access-log destination ARN (v1 and v2 alike)', () => {
    assert.deepEqual(
      accessLog('prod', `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:API-Gateway-Access-Logs_ab12/prod`),
      {
        stage: 'prod',
        region: 'eu-west-1',
        accountId: ACCOUNT,
        logGroup: 'API-Gateway-Access-Logs_ab12/prod',
      },
    );
    assert.equal(
      accessLog('prod', `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/custom/access:*`)?.logGroup,
      '/custom/access',
    );
    assert.equal(
      accessLog('prod', 'arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-x'),
      undefined,
    );
    assert.equal(accessLog(undefined, `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:x`), undefined);
  });

  test('targets per stage with logs in this region: ddsource apigateway, service the API, apiname or apiid', () => {
    const rest = {
      id: 'r1',
      name: 'shop',
      protocol: 'REST' as const,
      tags: { team: 'web' },
      arn: 'arn:aws:apigateway:us-east-1::/restapis/r1',
      accessLogs: [
        { stage: 'prod', region: 'us-east-1', accountId: ACCOUNT, logGroup: 'shop-prod' },
        { stage: 'dev', region: 'eu-west-1', accountId: ACCOUNT, logGroup: 'shop-dev-elsewhere' },
      ],
    };
    const http = {
      id: 'h1',
      name: 'feed',
      protocol: 'HTTP' as const,
      tags: {},
      arn: 'arn:aws:apigateway:us-east-1::/apis/h1',
      accessLogs: [{ stage: '$default', region: 'us-east-1', accountId: ACCOUNT, logGroup: 'feed-default' }],
    };
    const inventory: ApiGatewayInventory = {
      restByName: new Map([['shop', [rest]]]),
      v2ById: new Map([['h1', http]]),
    };
    const context = { region: 'us-east-1', accountId: ACCOUNT } as RegionContext;
    const groups = apiGatewayLogGroups(inventory, context, new Map());
    assert.deepEqual(
      groups.map((g) => [
        g.target.logGroupName,
        g.target.ddsource,
        g.target.service,
        g.target.host,
        g.resourceName,
      ]),
      [
        ['shop-prod', 'apigateway', 'shop', 'shop-prod', 'shop'],
        ['feed-default', 'apigateway', 'feed', 'feed-default', 'feed'],
      ],
    );
    assert.deepEqual(groups[0]!.target.tags, [
      'apiname:shop',
      'stage:prod',
      `aws_account:${ACCOUNT}`,
      'region:us-east-1',
      'team:web',
    ]);
    assert.equal(groups[1]!.target.tags[0], 'apiid:h1');
  });

  test('a JSON access log line becomes attributes; other lines add none', () => {
    assert.deepEqual(jsonAccessLogAttributes('{"status":200,"httpMethod":"GET"}'), {
      status: 200,
      httpMethod: 'GET',
    });
    assert.equal(jsonAccessLogAttributes('127.0.0.1 - - [25/Nov/2026] "GET / HTTP/1.1" 200'), undefined);
    assert.equal(jsonAccessLogAttributes('{"broken"'), undefined);
    assert.equal(jsonAccessLogAttributes('[1,2]'), undefined);
  });
});
