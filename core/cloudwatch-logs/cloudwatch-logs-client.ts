import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { AwsClientDeclaration, AwsQuotaDeclaration } from '../aws/aws-api-declaration.js';
import type { FilterLogEventsPort } from './filter-log-events.js';

/** The CloudWatch Logs client of the logs source; checks that collect logs declare it in their awsApis. */
export const cloudWatchLogsClient: AwsClientDeclaration<CloudWatchLogsClient> = {
  id: 'logs',
  sdkClient: CloudWatchLogsClient,
  service: 'logs',
  iamPrefix: 'logs',
};

/**
 * CloudWatch Logs quotas, "FilterLogEvents: 5 transactions per second (TPS) per account per Region"
 * (https://docs.aws.amazon.com/general/latest/gr/cwl_region.html; AWS re:Post "How do I determine throttling
 * in my CloudWatch logs?", https://repost.aws/knowledge-center/cloudwatch-logs-throttling). The console and
 * any other reader in the account draw from the same budget, so dogwatch takes the whole of it only in
 * bursts: every check that collects logs declares this same quota and they share one bucket per account
 * and region.
 */
export const filterLogEventsQuota: AwsQuotaDeclaration = {
  name: 'logs:FilterLogEvents',
  clients: [cloudWatchLogsClient],
  operations: ['FilterLogEvents'],
  requestsPerSecond: 5,
};

/** The source's port over the SDK client: one FilterLogEvents page, aborted with the run. */
export function filterLogEventsPort(client: CloudWatchLogsClient, signal: AbortSignal): FilterLogEventsPort {
  return {
    async filterLogEvents(request) {
      const answer = await client.send(
        new FilterLogEventsCommand({
          logGroupName: request.logGroupName,
          startTime: request.startTime,
          endTime: request.endTime,
          nextToken: request.nextToken,
          limit: request.limit,
        }),
        { abortSignal: signal },
      );
      const events = [];
      for (const e of answer.events ?? []) {
        if (e.eventId === undefined || e.timestamp === undefined) continue;
        events.push({
          eventId: e.eventId,
          timestamp: e.timestamp,
          ...(e.ingestionTime !== undefined ? { ingestionTime: e.ingestionTime } : {}),
          logStreamName: e.logStreamName ?? '',
          message: e.message ?? '',
        });
      }
      return { events, ...(answer.nextToken ? { nextToken: answer.nextToken } : {}) };
    },
  };
}
