/**
 * Amazon SQS (AWS JSON 1.0, awsQueryCompatible): ListQueues and ListQueueTags, the inventory calls of a
 * queue integration.
 *
 * - Queue URLs are `<scheme>://<host of the request>/<account>/<name>`: SQS answers with URLs of the
 *   endpoint that was asked, so a client pointed at the emulator keeps talking to it (the SDK sends a
 *   call that names a QueueUrl to that URL's host unless an endpoint is configured).
 * - ListQueues returns at most 1,000 queues, by name; NextToken only when MaxResults (1-1,000) is given.
 * - ListQueueTags of a queue that is not the caller's, or does not exist, is QueueDoesNotExist.
 */
import { input, type Call, type HandlerResult } from './call.js';
import { AwsError, decodeToken, encodeToken, fingerprint, parseJsonBody } from './wire.js';
import type { SqsQueue, World } from './world.js';

export const LIST_QUEUES_LIMIT = 1000;

const queueDoesNotExist = (): AwsError =>
  new AwsError(
    'QueueDoesNotExist',
    'The specified queue does not exist.',
    400,
    'AWS.SimpleQueueService.NonExistentQueue',
  );

export class SqsService {
  constructor(private readonly world: World) {}

  handle(call: Call): HandlerResult {
    const body = parseJsonBody(call.body);
    switch (call.operation) {
      case 'ListQueues':
        return this.listQueues(call, body);
      case 'ListQueueTags':
        return this.listQueueTags(call, body);
      default:
        throw new AwsError(
          'UnsupportedOperation',
          `Operation ${call.operation} is not supported by the emulator`,
          400,
          'AWS.SimpleQueueService.UnsupportedOperation',
        );
    }
  }

  private listQueues(call: Call, body: Record<string, unknown>): HandlerResult {
    const prefix = input.str(body, 'QueueNamePrefix') ?? '';
    const max = input.num(body, 'MaxResults');
    if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > LIST_QUEUES_LIMIT))
      throw new AwsError('InvalidParameterValue', 'Value for parameter MaxResults is invalid.', 400);
    const fp = fingerprint([call.account, call.region, prefix, max]);
    const token = input.str(body, 'NextToken');
    const start = token === undefined || token === '' ? 0 : decodeToken(token, fp);
    if (start === undefined) throw new AwsError('InvalidParameterValue', 'Invalid NextToken value.', 400);
    const matching = this.world
      .queues(call.account, call.region)
      .filter((q) => q.name.startsWith(prefix))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const page = matching.slice(start, start + (max ?? LIST_QUEUES_LIMIT));
    const end = start + page.length;
    return {
      body: JSON.stringify({
        ...(page.length > 0 ? { QueueUrls: page.map((q) => queueUrl(call, q)) } : {}),
        ...(max !== undefined && end < matching.length ? { NextToken: encodeToken(end, fp) } : {}),
      }),
    };
  }

  private listQueueTags(call: Call, body: Record<string, unknown>): HandlerResult {
    const url = input.str(body, 'QueueUrl');
    if (!url) throw new AwsError('MissingParameter', 'The request must contain the parameter QueueUrl.', 400);
    const [account, name] = new URL(url, 'http://localhost').pathname.split('/').filter(Boolean);
    const queue =
      account === call.account
        ? this.world.queues(account, call.region).find((q) => q.name === name)
        : undefined;
    if (!queue) throw queueDoesNotExist();
    return { body: JSON.stringify(Object.keys(queue.tags).length > 0 ? { Tags: queue.tags } : {}) };
  }
}

function queueUrl(call: Call, queue: SqsQueue): string {
  const host = call.headers.host ?? `sqs.${call.region}.amazonaws.com`;
  const scheme = call.headers.host ? 'http' : 'https';
  return `${scheme}://${host}/${queue.account}/${queue.name}`;
}
