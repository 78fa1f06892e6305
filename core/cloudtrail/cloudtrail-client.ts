import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type {
  AwsApiDeclaration,
  AwsClientDeclaration,
  AwsQuotaDeclaration,
} from '../aws/aws-api-declaration.js';

/** The CloudTrail client of the events source (declared through trailEventsAwsApis). */
export const cloudTrailClient: AwsClientDeclaration<CloudTrailClient> = {
  id: 'cloudtrail',
  sdkClient: CloudTrailClient,
  service: 'cloudtrail',
  iamPrefix: 'cloudtrail',
};

/**
 * CloudTrail quotas, "LookupEvents API: 2 transactions per second (TPS) ... per account, per Region"
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html). Every check
 * that reads events declares this same quota (trailEventsAwsApis): they share one bucket per account and region.
 */
export const lookupEventsQuota: AwsQuotaDeclaration = {
  name: 'cloudtrail:LookupEvents',
  clients: [cloudTrailClient],
  operations: ['LookupEvents'],
  requestsPerSecond: 2,
};

/**
 * The AWS APIs of the events source, for the `awsApis` of a check that runs it: the CloudTrail client,
 * the LookupEvents quota and the `cloudtrail:LookupEvents` action, called in every region of an instance
 * that sets `option` (the check's opt-in, e.g. `collect_deployment_events`). `changes`: what the check
 * sends of them, for iam/README.md ("function changes").
 */
export function trailEventsAwsApis(option: string, changes: string): AwsApiDeclaration {
  return {
    clients: [cloudTrailClient],
    quotas: [lookupEventsQuota],
    iamActions: [
      {
        action: 'cloudtrail:LookupEvents',
        client: cloudTrailClient,
        statement: 'CloudTrailDeploymentEvents',
        option,
        purpose:
          `${changes} as Datadog events, read with the ` +
          '`EventSource` filter (LookupEvents has no resource-level permissions)',
      },
    ],
  };
}
