import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type {
  AwsApiDeclaration,
  AwsClientDeclaration,
  OwnedAwsApiDeclaration,
} from '../../../core/aws/aws-api-declaration.js';
import { AwsApiRegistry, awsApiDeclarations } from '../../../core/aws/aws-api-registry.js';
import { AwsClientFactory } from '../../../core/aws/aws-client-factory.js';
import { coreAwsApis } from '../../../core/aws/core-aws-apis.js';
import { iamPolicyDocument } from '../../../core/aws/iam-policy.js';
import { ApiRateLimiter } from '../../../core/aws/token-bucket.js';
import { restApiClient, v2ApiClient } from '../../../checks/amazon_api_gateway/api-gateway-aws-apis.js';
import { lambdaClient } from '../../../checks/amazon_lambda/lambda-aws-apis.js';
import { builtinDefinitions } from '../../tools/write-conf-examples.js';

const builtin = (): AwsApiRegistry => new AwsApiRegistry(awsApiDeclarations(builtinDefinitions()));

const sqs: AwsClientDeclaration<SQSClient> = {
  id: 'sqs',
  sdkClient: SQSClient,
  service: 'sqs',
  iamPrefix: 'sqs',
};

/** Core's declaration plus one of `owner`. */
const withDeclaration = (owner: string, declaration: AwsApiDeclaration): OwnedAwsApiDeclaration[] => [
  { owner: 'core', ...coreAwsApis },
  { owner, ...declaration },
];

const listQueues = {
  action: 'sqs:ListQueues',
  client: sqs,
  statement: 'QueueInventory',
  purpose: 'queues',
} as const;

describe('AwsApiRegistry', () => {
  test('quotas come from the declarations of core and the checks; API Gateway v1 and v2 share one', () => {
    const apis = builtin();
    assert.deepEqual(apis.quotaOf('cloudwatch', 'GetMetricData'), {
      name: 'cloudwatch:GetMetricData',
      requestsPerSecond: 50,
    });
    assert.deepEqual(apis.quotaOf('lambda', 'ListFunctions'), { name: 'lambda', requestsPerSecond: 15 });
    assert.deepEqual(apis.quotaOf('apigateway', 'GetRestApis'), {
      name: 'apigateway',
      requestsPerSecond: 10,
    });
    assert.deepEqual(apis.quotaOf('apigatewayv2', 'GetApis'), { name: 'apigateway', requestsPerSecond: 10 });
    assert.equal(apis.quotaOf('cloudwatch', 'PutMetricData'), undefined, 'no quota declared: not limited');
  });

  test('an override replaces a declared rate; an unknown quota name is refused', () => {
    const declarations = awsApiDeclarations(builtinDefinitions());
    const apis = new AwsApiRegistry(declarations, { lambda: 3 });
    assert.equal(apis.quotaOf('lambda', 'ListFunctions')?.requestsPerSecond, 3);
    assert.throws(
      () => new AwsApiRegistry(declarations, { GetMetricData: 10 }),
      /^Error: quota override "GetMetricData" names no declared quota; declared: cloudwatch:GetMetricData, /,
    );
  });

  test('IAM refusals name the declared action (apigateway:GET), else <prefix>:<operation>', () => {
    const apis = builtin();
    assert.equal(apis.iamActionOf(restApiClient, 'GetRestApis'), 'apigateway:GET');
    assert.equal(apis.iamActionOf(v2ApiClient, 'GetApis'), 'apigateway:GET');
    assert.equal(apis.iamActionOf(lambdaClient, 'ListFunctions'), 'lambda:ListFunctions');
    assert.equal(apis.iamActionOf(lambdaClient, 'ListAliases'), 'lambda:ListAliases');
  });

  test('a check that declares a new API adds its client, quota and actions to the policy', () => {
    const apis = new AwsApiRegistry(
      withDeclaration('amazon_sqs', {
        clients: [sqs],
        quotas: [{ name: 'sqs', clients: [sqs], requestsPerSecond: 5 }],
        iamActions: [listQueues],
      }),
    );
    assert.equal(apis.declaredClient(sqs), sqs);
    assert.deepEqual(apis.quotaOf('sqs', 'ListQueues'), { name: 'sqs', requestsPerSecond: 5 });
    assert.deepEqual(iamPolicyDocument(apis.iamActions).Statement.at(-1), {
      Sid: 'QueueInventory',
      Effect: 'Allow',
      Action: ['sqs:ListQueues'],
      Resource: '*',
    });
  });

  const conflicts: { name: string; declaration: AwsApiDeclaration; error: RegExp }[] = [
    {
      name: 'a client id core uses, for another client',
      declaration: { clients: [{ ...sqs, id: 'cloudwatch' }], quotas: [], iamActions: [] },
      error:
        /^Error: AWS client "cloudwatch" is declared differently by core and by x: give one of them another id/,
    },
    {
      name: 'a client missing from `clients`',
      declaration: { clients: [], quotas: [], iamActions: [listQueues] },
      error: /^Error: x: IAM action sqs:ListQueues names AWS client "sqs", which no `clients` list declares$/,
    },
    {
      name: 'an operation in two quotas',
      declaration: {
        clients: [sqs],
        quotas: [
          { name: 'sqs', clients: [sqs], requestsPerSecond: 5 },
          { name: 'sqs-list', clients: [sqs], requestsPerSecond: 5 },
        ],
        iamActions: [],
      },
      error: /^Error: x: sqs \* draws from both quota "sqs" and quota "sqs-list"/,
    },
    {
      name: 'a quota of 0 requests per second',
      declaration: {
        clients: [sqs],
        quotas: [{ name: 'sqs', clients: [sqs], requestsPerSecond: 0 }],
        iamActions: [],
      },
      error: /^Error: x: quota "sqs" must allow more than 0 requests per second$/,
    },
    {
      name: 'a quota name core uses, declared differently',
      declaration: {
        clients: [sqs],
        quotas: [{ name: 'cloudwatch:GetMetricData', clients: [sqs], requestsPerSecond: 1 }],
        iamActions: [],
      },
      error: /^Error: quota "cloudwatch:GetMetricData" is declared differently by core and by x$/,
    },
    {
      name: 'an action of another service',
      declaration: { clients: [sqs], quotas: [], iamActions: [{ ...listQueues, action: 'sns:ListTopics' }] },
      error: /^Error: x: IAM action sns:ListTopics is not an action of sqs \(sqs:…\)$/,
    },
    {
      name: 'an action in two statements',
      declaration: {
        clients: [sqs],
        quotas: [],
        iamActions: [listQueues, { ...listQueues, operations: ['ListQueues2'], statement: 'Other' }],
      },
      error:
        /^Error: sqs:ListQueues is in statement QueueInventory \(x\) and Other \(x\): one action, one statement$/,
    },
    {
      name: 'two actions on different resources in one statement',
      declaration: {
        clients: [sqs],
        quotas: [],
        iamActions: [
          listQueues,
          { ...listQueues, action: 'sqs:ListQueueTags', resources: ['arn:aws:sqs:*:*:orders'] },
        ],
      },
      error:
        /^Error: statement QueueInventory: sqs:ListQueues and sqs:ListQueueTags are declared on different resources/,
    },
  ];
  for (const { name, declaration, error } of conflicts)
    test(`refuses ${name}, naming the owners`, () => {
      assert.throws(() => new AwsApiRegistry(withDeclaration('x', declaration)), error);
    });
});

describe('AwsClientFactory over the registry', () => {
  test('builds declared clients once per (access, region, client) and refuses undeclared ones', () => {
    const factory = new AwsClientFactory(builtin());
    try {
      const access = { endpointUrl: 'http://127.0.0.1:1' };
      const lambda = factory.client(lambdaClient, access, 'us-east-1');
      assert.ok(lambda instanceof LambdaClient);
      assert.equal(factory.client(lambdaClient, access, 'us-east-1'), lambda);
      assert.notEqual(factory.client(lambdaClient, access, 'eu-west-1'), lambda);
      assert.notEqual(
        factory.client(lambdaClient, { ...access, roleArn: 'arn:aws:iam::1:role/r' }, 'us-east-1'),
        lambda,
      );
      assert.throws(
        () => factory.client(sqs, access, 'us-east-1'),
        /^Error: AWS client "sqs" is not declared: add it to the `clients` of the awsApis of the check/,
      );
    } finally {
      factory.destroy();
    }
  });

  test('the limiter draws API Gateway v1 and v2 calls from one bucket per (credentials, region)', async () => {
    const limiter = new ApiRateLimiter(
      new AwsApiRegistry(awsApiDeclarations(builtinDefinitions()), { apigateway: 2 }),
    );
    const pending = (promise: Promise<void>): Promise<boolean> =>
      Promise.race([promise.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 100))]);
    // A bucket of 2 requests/s holds one token.
    assert.equal(await pending(limiter.take('key', 'us-east-1', 'apigateway', 'GetRestApis')), false);
    assert.equal(await pending(limiter.take('key', 'us-east-1', 'apigatewayv2', 'GetApis')), true);
    assert.equal(await pending(limiter.take('key', 'eu-west-1', 'apigatewayv2', 'GetApis')), false);
    assert.equal(await pending(limiter.take('other', 'us-east-1', 'apigatewayv2', 'GetApis')), false);
  });
});
