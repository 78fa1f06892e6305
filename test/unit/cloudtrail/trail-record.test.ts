import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeTags } from '../../../core/check/normalize.js';
import { eventText } from '../../../core/cloudtrail/trail-event-emitter.js';
import { operationOf, parseTrailRecord } from '../../../core/cloudtrail/trail-record.js';
import { encodeEvent } from '../../../core/sink/dogstatsd-format.js';
import { validateDatagram } from '../../support/dogstatsd-validator.js';
import { lambdaDeploymentEvents } from '../../../checks/amazon_lambda/lambda-deployment-events.js';

describe('CloudTrail records', () => {
  test('operations match whatever API-version suffix CloudTrail adds', () => {
    assert.equal(operationOf('UpdateFunctionCode20150331v2'), 'UpdateFunctionCode');
    assert.equal(operationOf('PublishVersion20150331'), 'PublishVersion');
    assert.equal(operationOf('UpdateFunctionConfiguration20990101v7'), 'UpdateFunctionConfiguration');
    assert.equal(operationOf('CreateDeployment'), 'CreateDeployment');
  });

  test('the text names who made the change, never request parameters or credentials', () => {
    const record = parseTrailRecord(
      {
        EventId: 'e-1',
        EventName: 'UpdateFunctionConfiguration20150331v2',
        EventTime: new Date('2026-11-25T11:52:07Z'),
        EventSource: 'lambda.amazonaws.com',
        AccessKeyId: 'ASIASECRETKEY',
        CloudTrailEvent: JSON.stringify({
          userIdentity: {
            arn: 'arn:aws:sts::123456789012:assumed-role/deploy|bot/zoë\nci',
            accessKeyId: 'ASIASECRETKEY',
          },
          awsRegion: 'us-east-1',
          errorCode: 'AccessDenied',
          requestParameters: {
            functionName: 'arn:aws:lambda:us-east-1:123456789012:function:orders-handler:live',
            environment: { variables: { DB_PASSWORD: 'hunter2' } },
          },
        }),
      },
      'us-east-1',
    )!;
    const text = eventText(record);
    assert.match(text, /^UpdateFunctionConfiguration20150331v2 by arn:aws:sts::123456789012:assumed-role/);
    assert.match(text, /Failed: AccessDenied/);
    assert.doesNotMatch(text, /hunter2|DB_PASSWORD|ASIASECRETKEY/);
    const described = lambdaDeploymentEvents.describe(record, {
      accountId: '123456789012',
      inventories: new Map(),
    })!;
    assert.equal(described.title, 'Lambda UpdateFunctionConfiguration: orders-handler (us-east-1)');
    // Non-ASCII, `|` and a newline in a text still make one valid event line with UTF-8 byte lengths.
    const line = encodeEvent({
      kind: 'event',
      title: `${described.title} — ✓ | new\nline`,
      text,
      timestamp: 1_795_607_527,
      alertType: 'error',
      tags: normalizeTags([...described.tags]),
    });
    assert.deepEqual(
      validateDatagram(Buffer.from(line, 'utf8'), 8192, { latestTimestamp: 2_000_000_000 }),
      [],
    );
    assert.equal(line.split('\n').length, 1);
  });
});
