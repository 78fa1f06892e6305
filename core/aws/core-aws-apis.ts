import { AccountClient } from '@aws-sdk/client-account';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsApiDeclaration, AwsClientDeclaration } from './aws-api-declaration.js';
import { useLeanCloudWatchCodec } from './lean-cloudwatch-codec.js';

const cloudwatch: AwsClientDeclaration<CloudWatchClient> = {
  id: 'cloudwatch',
  sdkClient: CloudWatchClient,
  service: 'monitoring',
  iamPrefix: 'cloudwatch',
  // GetMetricData's JSON without the SDK's generic serde: see lean-cloudwatch-codec.ts.
  customize: useLeanCloudWatchCodec,
};

const tagging: AwsClientDeclaration<ResourceGroupsTaggingAPIClient> = {
  id: 'tagging',
  sdkClient: ResourceGroupsTaggingAPIClient,
  service: 'tagging',
  iamPrefix: 'tag',
};

const sts: AwsClientDeclaration<STSClient> = {
  id: 'sts',
  sdkClient: STSClient,
  service: 'sts',
  iamPrefix: 'sts',
};

const account: AwsClientDeclaration<AccountClient> = {
  id: 'account',
  sdkClient: AccountClient,
  service: 'account',
  iamPrefix: 'account',
};

/** The clients core itself asks for, by id: `clients.client('cloudwatch', access, region)`. */
export const CORE_AWS_CLIENTS = { cloudwatch, tagging, sts, account } as const;

/**
 * What core calls whatever the checks: the CloudWatch metrics source, the Tagging API for `tag_filters`
 * and resource tags, STS for the account and assumed roles, the Account API for `regions: all`.
 */
export const coreAwsApis: AwsApiDeclaration = {
  clients: [cloudwatch, tagging, sts, account],
  quotas: [
    // CloudWatch service quotas, "GetMetricData: 50 transactions per second (TPS)" and "ListMetrics:
    // 25 TPS" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html).
    {
      name: 'cloudwatch:GetMetricData',
      clients: [cloudwatch],
      operations: ['GetMetricData'],
      requestsPerSecond: 50,
    },
    {
      name: 'cloudwatch:ListMetrics',
      clients: [cloudwatch],
      operations: ['ListMetrics'],
      requestsPerSecond: 25,
    },
    // AWS publishes no rate for the Tagging API and throttles its paging at scale (ThrottledException).
    // Discovery is cached and refreshed in the background, so slow paging costs nothing, while a
    // throttled page costs retries and can fail a run: a rate low enough never to be throttled.
    { name: 'tag:GetResources', clients: [tagging], operations: ['GetResources'], requestsPerSecond: 5 },
    // No published rate; one call per identity for the process lifetime: a rate that never matters.
    {
      name: 'sts:GetCallerIdentity',
      clients: [sts],
      operations: ['GetCallerIdentity'],
      requestsPerSecond: 20,
    },
    // No published rate; one paged listing per identity for `regions: all`, cached.
    { name: 'account:ListRegions', clients: [account], operations: ['ListRegions'], requestsPerSecond: 10 },
  ],
  iamActions: [
    {
      action: 'cloudwatch:ListMetrics',
      client: cloudwatch,
      statement: 'CloudWatchMetrics',
      purpose: 'series discovery in every region, cached for `discovery_ttl`',
    },
    {
      action: 'cloudwatch:GetMetricData',
      client: cloudwatch,
      statement: 'CloudWatchMetrics',
      purpose: 'the metric points, every run and region',
    },
    {
      action: 'tag:GetResources',
      client: tagging,
      statement: 'ResourceTags',
      purpose:
        'checks with taggable resources (Lambda functions, API Gateway stages): their AWS tags per region, ' +
        'for resource tags and `tag_filters`',
    },
    {
      action: 'sts:GetCallerIdentity',
      client: sts,
      statement: 'CallerIdentity',
      purpose:
        'the `aws_account` tag, once per identity for the process; AWS never denies this call: listed for audit',
    },
    {
      action: 'account:ListRegions',
      client: account,
      statement: 'EnabledRegions',
      option: '`regions: all`',
      purpose: 'the regions enabled for the account, cached per identity',
    },
    {
      // Made by the credential provider (`fromTemporaryCredentials`), not through the client factory.
      action: 'sts:AssumeRole',
      client: sts,
      statement: 'AssumeConfiguredRoles',
      resources: ['arn:aws:iam::123456789012:role/dogwatch-collector'],
      option: '`role_arn` (and `external_id`)',
      purpose: 'assumes the configured role, and again before its credentials expire',
    },
  ],
};
