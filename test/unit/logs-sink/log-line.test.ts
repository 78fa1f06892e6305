import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLogsUrl } from '../../../core/config/logs-address.js';
import { encodeLogLine, type LogRecord, TRUNCATION_MARK } from '../../../core/logs-sink/log-record.js';

const record: LogRecord = {
  message: 'START RequestId: 8f5c Version: $LATEST\nsecond line',
  timestamp: 1764028800123,
  ddsource: 'lambda',
  service: 'orders',
  host: 'arn:aws:lambda:us-east-1:123456789012:function:orders',
  tags: ['env:prod', 'functionname:orders'],
  attributes: {
    id: '3795',
    aws: {
      awslogs: { logGroup: '/aws/lambda/orders', logStream: '2025/11/25/[$LATEST]ab', owner: '123456789012' },
    },
    lambda: { arn: 'arn:aws:lambda:us-east-1:123456789012:function:orders', request_id: '8f5c' },
    service: 'not this one',
  },
};

describe('log line encoding', () => {
  test('one JSON object on one line, with the reserved fields over the attributes', () => {
    const line = encodeLogLine(record);
    assert.ok(!line.includes('\n'));
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.equal(parsed.message, record.message);
    assert.equal(parsed.timestamp, record.timestamp);
    assert.equal(parsed.ddsource, 'lambda');
    assert.equal(parsed.service, 'orders');
    assert.equal(parsed.host, record.host);
    assert.equal(parsed.ddtags, 'env:prod,functionname:orders');
    assert.deepEqual(parsed.aws, record.attributes?.aws);
    assert.deepEqual(parsed.lambda, record.attributes?.lambda);
  });

  test('a message too long for the Agent is cut on a character boundary and marked', () => {
    const long: LogRecord = { ...record, message: 'é"\n'.repeat(200_000) };
    for (const limit of [256_000, 4_096, 1_000]) {
      const line = encodeLogLine(long, limit);
      assert.ok(Buffer.byteLength(line) <= limit, `${Buffer.byteLength(line)} > ${limit}`);
      const message = (JSON.parse(line) as { message: string }).message;
      assert.ok(message.endsWith(TRUNCATION_MARK));
      assert.ok(!message.includes('\uFFFD'));
      assert.ok(long.message.startsWith(message.slice(0, -TRUNCATION_MARK.length)));
    }
  });
});

describe('logs_url', () => {
  const cases: Array<[string, ReturnType<typeof parseLogsUrl>]> = [
    ['tcp://127.0.0.1:10518', { host: '127.0.0.1', port: 10518 }],
    ['tcp://agent', { host: 'agent', port: 10518 }],
    ['TCP://[::1]:9000/', { host: '::1', port: 9000 }],
    ['tcp://:9000', { host: '127.0.0.1', port: 9000 }],
    ['udp://agent:10518', undefined],
    ['tcp://agent:70000', undefined],
    ['agent:10518', undefined],
    ['tcp://agent-intake.logs.datadoghq.com:10516', undefined],
  ];
  for (const [text, expected] of cases)
    test(JSON.stringify(text), () => assert.deepEqual(parseLogsUrl(text), expected));
});
