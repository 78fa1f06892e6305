import { LambdaClient } from '@aws-sdk/client-lambda';
import type { AwsApiDeclaration, AwsClientDeclaration } from '../../core/aws/aws-api-declaration.js';
import { trailEventsAwsApis } from '../../core/cloudtrail/cloudtrail-client.js';
import {
  cloudWatchLogsClient,
  filterLogEventsQuota,
} from '../../core/cloudwatch-logs/cloudwatch-logs-client.js';

export const lambdaClient: AwsClientDeclaration<LambdaClient> = {
  id: 'lambda',
  sdkClient: LambdaClient,
  service: 'lambda',
  iamPrefix: 'lambda',
};

/** The Lambda inventory (lambda-inventory.ts): ListFunctions, every page, in every region. */
export const lambdaAwsApis: AwsApiDeclaration = {
  clients: [lambdaClient],
  quotas: [
    // Lambda quotas, "Lambda API requests": the control plane APIs other than invocation, GetFunction and
    // GetPolicy share 15 requests per second across all APIs, per account and region
    // (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests).
    { name: 'lambda', clients: [lambdaClient], requestsPerSecond: 15 },
  ],
  iamActions: [
    {
      action: 'lambda:ListFunctions',
      client: lambdaClient,
      statement: 'LambdaInventory',
      purpose:
        'every region: `memorysize`/`timeout` metrics and `runtime`, `memorysize`, `architecture` tags; outside ' +
        'us-east-1 also with `MasterRegion=us-east-1, FunctionVersion=ALL` to find Lambda@Edge replicas ' +
        '(ListFunctions has no resource-level permissions)',
    },
  ],
};

/** `collect_deployment_events`: CloudTrail LookupEvents in every region of the instance (core/cloudtrail/). */
export const lambdaDeploymentEventsAwsApis: AwsApiDeclaration = trailEventsAwsApis(
  'collect_deployment_events',
  'function changes',
);

/**
 * `collect_logs`: CloudWatch Logs FilterLogEvents on each function's log group (`/aws/lambda/<name>`, the
 * LoggingConfig's custom group, `/aws/lambda/us-east-1.<name>` for Lambda@Edge replicas), in every region
 * of the instance (core/cloudwatch-logs/). Only needed with that option.
 */
export const lambdaLogsAwsApis: AwsApiDeclaration = {
  clients: [cloudWatchLogsClient],
  quotas: [filterLogEventsQuota],
  iamActions: [
    {
      action: 'logs:FilterLogEvents',
      client: cloudWatchLogsClient,
      statement: 'CloudWatchLogs',
      option: 'collect_logs',
      purpose:
        "the functions' log lines, sent to the Agent's logs listener (custom groups from LoggingConfig can " +
        'have any name, hence every log group; narrow it to yours if you like)',
    },
  ],
};
