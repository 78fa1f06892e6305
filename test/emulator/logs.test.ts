/**
 * The emulator's CloudWatch Logs through the real SDK clients: FilterLogEvents paging, late ingestion,
 * an unknown group, throttling by fault rule; and the model's consistency with the world's CloudWatch
 * metrics (one START/END/REPORT per invocation, durations summing to the Duration statistic), with the
 * LoggingConfig and the stages' access-log settings that discovery reads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  type FilteredLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { APIGatewayClient, GetRestApisCommand, GetStagesCommand } from '@aws-sdk/client-api-gateway';
import { ManualClock } from '../../core/clock.js';
import { AwsEmulator, BARE_WORLD, lambdaInvocations, lambdaLoggingConfig } from '../../emulator/index.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0);
const ACCOUNT = '123456789012';
const MINUTE = 60_000;
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' };

describe('emulator: CloudWatch Logs', () => {
  const clock = new ManualClock(T0 + 30 * MINUTE);
  let emulator: AwsEmulator;
  let logs: CloudWatchLogsClient;

  before(async () => {
    emulator = new AwsEmulator({
      world: { ...BARE_WORLD, functions: 6, restApis: 1, httpApis: 1, createdAtMs: T0 },
      clock,
      quotas: false,
    });
    const endpoint = await emulator.start();
    logs = new CloudWatchLogsClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
  });
  after(async () => {
    logs.destroy();
    await emulator.stop();
  });

  async function readAll(group: string, startTime: number, endTime: number, limit?: number) {
    const events: FilteredLogEvent[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await logs.send(
        new FilterLogEventsCommand({ logGroupName: group, startTime, endTime, nextToken, limit }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    return { events, pages };
  }

  test("each invocation of a minute logs START, END and REPORT with the world's Invocations and Duration", async () => {
    const fn = emulator.world.functions(ACCOUNT, 'us-east-1')[0]!;
    const config = lambdaLoggingConfig(emulator.world, fn);
    const minute = T0 + 10 * MINUTE;
    const { events } = await readAll(config.LogGroup, minute - MINUTE, minute + 2 * MINUTE);
    const truth = lambdaInvocations(
      emulator.world,
      fn,
      fn.name,
      { account: ACCOUNT, region: 'us-east-1' },
      minute,
    );
    const invocations = emulator.world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Invocations', {
      FunctionName: fn.name,
    })!;
    const duration = emulator.world.find(ACCOUNT, 'us-east-1', 'AWS/Lambda', 'Duration', {
      FunctionName: fn.name,
    })!;
    const count = emulator.world.datapoint(invocations, minute, 60)!.Sum;
    const stats = emulator.world.datapoint(duration, minute, 60)!;
    assert.equal(truth.length, count);
    const sum = truth.reduce((n, inv) => n + inv.durationMs, 0);
    assert.ok(Math.abs(sum - stats.Sum) <= 0.005 * count + 1e-6, `duration sum ${sum} vs ${stats.Sum}`);
    assert.equal(Math.max(...truth.map((inv) => inv.durationMs)), Math.round(stats.Maximum * 100) / 100);
    for (const inv of truth) {
      const mine = events.filter((e) => e.message?.includes(inv.requestId));
      assert.equal(mine.length, 4, `four lines for ${inv.requestId}`);
      const report = mine.find((e) => /^REPORT|platform\.report/.test(e.message ?? ''));
      assert.ok(
        report?.message?.includes(
          config.LogFormat === 'JSON'
            ? `"durationMs":${inv.durationMs}`
            : `Duration: ${inv.durationMs.toFixed(2)} ms`,
        ),
      );
    }
  });

  test('paging with nextToken returns every event once, in timestamp order', async () => {
    const fn = emulator.world.functions(ACCOUNT, 'us-east-1')[1]!;
    const group = lambdaLoggingConfig(emulator.world, fn).LogGroup;
    const whole = await readAll(group, T0, T0 + 20 * MINUTE);
    const paged = await readAll(group, T0, T0 + 20 * MINUTE, 37);
    assert.ok(paged.pages > 5);
    assert.deepEqual(
      paged.events.map((e) => e.eventId),
      whole.events.map((e) => e.eventId),
    );
    assert.equal(new Set(whole.events.map((e) => e.eventId)).size, whole.events.length);
    const times = whole.events.map((e) => e.timestamp!);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
  });

  test('events become visible at their ingestion time, some minutes late and out of order', async () => {
    const fn = emulator.world.functions(ACCOUNT, 'us-east-1')[2]!;
    const group = lambdaLoggingConfig(emulator.world, fn).LogGroup;
    const asOf = T0 + 20 * MINUTE;
    clock.set(asOf);
    const early = await readAll(group, T0 + 10 * MINUTE, asOf);
    clock.set(asOf + 10 * MINUTE);
    const later = await readAll(group, T0 + 10 * MINUTE, asOf);
    clock.set(T0 + 30 * MINUTE);
    assert.ok(early.events.every((e) => e.ingestionTime! <= asOf));
    const late = later.events.filter((e) => e.ingestionTime! > asOf);
    assert.ok(late.length > 0, 'some events arrive after the first read');
    assert.ok(
      late.some((e) => e.ingestionTime! - e.timestamp! > 2 * MINUTE),
      'some minutes late',
    );
    assert.ok(
      late.some((e) => e.timestamp! < early.events.at(-1)!.timestamp!),
      'out of order',
    );
  });

  test('an unknown group is ResourceNotFoundException; a throttling rule answers ThrottlingException', async () => {
    await assert.rejects(
      logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/nope' })),
      (error: Error) => error.name === 'ResourceNotFoundException',
    );
    emulator.setFaults({ rules: [{ kind: 'throttle', service: 'logs' }] });
    await assert.rejects(
      logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/nope' })),
      (error: Error) => error.name === 'ThrottlingException',
    );
    emulator.clearFaults();
  });

  test('ListFunctions returns LoggingConfig (Text and JSON); stages name their access-log groups', async () => {
    const endpoint = emulator.endpoint;
    const lambda = new LambdaClient({ region: 'us-east-1', endpoint, credentials });
    const apigw = new APIGatewayClient({ region: 'us-east-1', endpoint, credentials });
    try {
      const listed = await lambda.send(new ListFunctionsCommand({}));
      const formats = new Set(listed.Functions?.map((f) => f.LoggingConfig?.LogFormat));
      assert.deepEqual([...formats].sort(), ['JSON', 'Text']);
      const api = (await apigw.send(new GetRestApisCommand({}))).items![0]!;
      const stages = await apigw.send(new GetStagesCommand({ restApiId: api.id }));
      const destination = stages.item?.find((s) => s.accessLogSettings)?.accessLogSettings?.destinationArn;
      assert.match(destination ?? '', /^arn:aws:logs:us-east-1:\d{12}:log-group:API-Gateway-Access-Logs_/);
      const group = destination!.split(':log-group:')[1]!;
      const { events } = await readAll(group, T0 + 5 * MINUTE, T0 + 6 * MINUTE);
      assert.ok(events.length > 0);
      const line = JSON.parse(events[0]!.message!) as Record<string, unknown>;
      assert.deepEqual(Object.keys(line).sort(), [
        'apiId',
        'caller',
        'httpMethod',
        'ip',
        'protocol',
        'requestId',
        'requestTime',
        'resourcePath',
        'responseLength',
        'stage',
        'status',
        'user',
      ]);
    } finally {
      lambda.destroy();
      apigw.destroy();
    }
  });
});

test('paging works on a clock with fractional milliseconds (a ScaledClock), as the AWS CLI found', async () => {
  const fractional = { now: () => T0 + 30 * MINUTE + 0.5874, monotonic: () => T0 + 30 * MINUTE + 0.5874 };
  const emulator = new AwsEmulator({
    world: { ...BARE_WORLD, functions: 1, createdAtMs: T0 },
    clock: fractional,
    quotas: false,
  });
  const endpoint = await emulator.start();
  const logs = new CloudWatchLogsClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
  try {
    const fn = emulator.world.functions(ACCOUNT, 'us-east-1')[0]!;
    const logGroupName = lambdaLoggingConfig(emulator.world, fn).LogGroup;
    const first = await logs.send(new FilterLogEventsCommand({ logGroupName, limit: 3 }));
    assert.ok(first.nextToken);
    const second = await logs.send(
      new FilterLogEventsCommand({ logGroupName, limit: 3, nextToken: first.nextToken }),
    );
    assert.equal(second.events?.length, 3);
  } finally {
    logs.destroy();
    await emulator.stop();
  }
});
