import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  lambdaEnhancedMetrics,
  LAMBDA_PRICES,
} from '../../../checks/amazon_lambda/lambda-enhanced-metrics.js';
import { parseLambdaLogLine } from '../../../checks/amazon_lambda/lambda-report-parser.js';
import { MinuteAggregates } from '../../../core/cloudwatch-logs/log-minute-metrics.js';
import { invocationLines, type LambdaInvocation } from '../../../emulator/index.js';

const ID = '6f1c2a3b-1234-4abc-8def-0123456789ab';
const T0 = Date.UTC(2026, 10, 25, 12);

describe('parseLambdaLogLine', () => {
  test('a text REPORT line, tab-separated as Lambda writes it, with an Init Duration', () => {
    const line =
      `REPORT RequestId: ${ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t` +
      'Max Memory Used: 70 MB\tInit Duration: 150.00 ms\t\nXRAY TraceId: 1-5e1b-abc\tSegmentId: 0b1\tSampled: true';
    assert.deepEqual(parseLambdaLogLine(line), {
      kind: 'report',
      requestId: ID,
      durationMs: 12.34,
      billedDurationMs: 13,
      memorySizeMb: 128,
      maxMemoryUsedMb: 70,
      initDurationMs: 150,
    });
  });

  test('a text REPORT line separated by spaces, warm, with a timeout status and an out-of-memory error type', () => {
    const warm = `REPORT RequestId: ${ID} Duration: 3000.00 ms Billed Duration: 3000 ms Memory Size: 512 MB Max Memory Used: 80 MB Status: timeout`;
    assert.deepEqual(parseLambdaLogLine(warm), {
      kind: 'report',
      requestId: ID,
      durationMs: 3000,
      billedDurationMs: 3000,
      memorySizeMb: 512,
      maxMemoryUsedMb: 80,
      status: 'timeout',
    });
    const oom = `REPORT RequestId: ${ID}\tDuration: 5.00 ms\tBilled Duration: 5 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory\t`;
    assert.equal(parseLambdaLogLine(oom)?.kind, 'report');
    assert.deepEqual(
      [
        (parseLambdaLogLine(oom) as { status?: string }).status,
        (parseLambdaLogLine(oom) as { errorType?: string }).errorType,
      ],
      ['error', 'Runtime.OutOfMemory'],
    );
  });

  test('a JSON platform.report record; other JSON records and platform events are not reports', () => {
    const report = JSON.stringify({
      time: '2026-11-25T12:00:01.000Z',
      type: 'platform.report',
      record: {
        requestId: ID,
        metrics: {
          durationMs: 1.5,
          billedDurationMs: 2,
          memorySizeMB: 1024,
          maxMemoryUsedMB: 90,
          initDurationMs: 300.25,
        },
        status: 'success',
      },
    });
    assert.deepEqual(parseLambdaLogLine(report), {
      kind: 'report',
      requestId: ID,
      durationMs: 1.5,
      billedDurationMs: 2,
      memorySizeMb: 1024,
      maxMemoryUsedMb: 90,
      initDurationMs: 300.25,
      status: 'success',
    });
    assert.equal(
      parseLambdaLogLine(JSON.stringify({ type: 'platform.runtimeDone', record: { requestId: ID } })),
      undefined,
    );
    assert.equal(
      parseLambdaLogLine(JSON.stringify({ type: 'platform.report', record: { requestId: ID } })),
      undefined,
    );
    assert.equal(parseLambdaLogLine('{"type":"platform.report", broken'), undefined);
    assert.equal(parseLambdaLogLine(JSON.stringify({ level: 'INFO', message: 'order accepted' })), undefined);
  });

  test('timeouts and the runtimes’ out-of-memory messages, with their request id when the line has one', () => {
    assert.deepEqual(parseLambdaLogLine(`2026-11-25T12:00:03.001Z ${ID} Task timed out after 3.00 seconds`), {
      kind: 'timeout',
      seconds: 3,
      requestId: ID,
    });
    assert.deepEqual(
      parseLambdaLogLine(
        `RequestId: ${ID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError`,
      ),
      { kind: 'out_of_memory', requestId: ID },
    );
    for (const message of [
      'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space',
      '[ERROR] MemoryError',
      'fatal error: runtime: out of memory',
    ])
      assert.equal(parseLambdaLogLine(message)?.kind, 'out_of_memory', message);
    // A JSON application record that says so is read as text.
    assert.equal(
      parseLambdaLogLine(JSON.stringify({ level: 'ERROR', message: 'java.lang.OutOfMemoryError' }))?.kind,
      'out_of_memory',
    );
  });

  test('lines that are not reports: START, END, application lines, a truncated REPORT', () => {
    for (const message of [
      `START RequestId: ${ID} Version: $LATEST`,
      `END RequestId: ${ID}`,
      `2026-11-25T12:00:00.001Z\t${ID}\tINFO\torder accepted`,
      `REPORT RequestId: ${ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms`,
      '',
    ])
      assert.equal(parseLambdaLogLine(message), undefined, message);
  });

  test('every line the emulator writes for an invocation, in both formats, yields one report with its truth', () => {
    const invocation: LambdaInvocation = {
      requestId: ID,
      startMs: T0 + 59_999,
      durationMs: 20.07,
      billedDurationMs: 21,
      memorySizeMb: 256,
      maxMemoryUsedMb: 256,
      initDurationMs: 432.1,
      outcome: 'out_of_memory',
      logStreamName: '2026/11/25/[$LATEST]abcdef',
    };
    for (const format of ['Text', 'JSON'] as const) {
      const reports = invocationLines(invocation, format)
        .map((line) => ({ line, signal: parseLambdaLogLine(line.message) }))
        .filter(({ signal }) => signal?.kind === 'report');
      assert.equal(reports.length, 1, format);
      const metrics = lambdaEnhancedMetrics({
        functionName: 'orders',
        region: 'us-east-1',
        accountId: '123456789012',
        architecture: 'arm64',
        runtime: 'nodejs20.x',
        extraTags: ['team:Core'],
      });
      const { line } = reports[0]!;
      const m = metrics.measure({
        eventId: 'e',
        timestamp: line.timestamp,
        logStreamName: line.logStreamName,
        message: line.message,
      })!;
      // Counted in the minute the invocation started, although its REPORT is written in the next one.
      assert.equal(Math.floor(m.timeMs / 60_000), Math.floor(invocation.startMs / 60_000), format);
      assert.equal(Math.floor(line.timestamp / 60_000), Math.floor(invocation.startMs / 60_000) + 1);
      assert.deepEqual(m.values, {
        invocations: 1,
        errors: 1,
        timeouts: 0,
        out_of_memory: 1,
        estimated_cost: LAMBDA_PRICES.perRequestUsd + 0.021 * 0.25 * LAMBDA_PRICES.perGbSecondUsd.arm64,
        duration: 2007,
        billed_duration: 2100,
        max_memory_used: 256,
        init_duration: 43210,
      });
      assert.deepEqual(m.tags, [
        'functionname:orders',
        'resource:orders',
        'region:us-east-1',
        'aws_account:123456789012',
        'memorysize:256',
        'cold_start:true',
        'executedversion:_latest',
        'runtime:nodejs20.x',
        'architecture:arm64',
        'team:core',
      ]);
      assert.equal(m.identityTags, 8);
    }
  });
});

describe('MinuteAggregates', () => {
  const outputs = [
    { metric: 'n', type: 'count', field: 'x', stat: 'sum' },
    { metric: 'avg', type: 'gauge', field: 'x', stat: 'avg', scale: 0.5 },
    { metric: 'max', type: 'gauge', field: 'x', stat: 'max' },
  ] as const;
  const at = (minute: number, x: number, tags = ['a:1']) => ({
    timeMs: T0 + minute * 60_000 + 1,
    tags,
    identityTags: 1,
    values: { x },
  });

  test('a minute is taken only once the read start passed its end plus the span, then never again', () => {
    const aggregates = MinuteAggregates.startingAt(T0 - 30_000);
    assert.equal(aggregates.fromMs, T0, 'the first whole minute');
    assert.equal(aggregates.add({ ...at(0, 1), timeMs: T0 - 1 }), false, 'before the first whole minute');
    aggregates.add(at(0, 2));
    aggregates.add(at(0, 6));
    aggregates.add(at(0, 5, ['a:2']));
    aggregates.add(at(1, 7));
    assert.deepEqual(aggregates.takeSettled(T0 + 60_000 + 9_999, 10_000, outputs), []);
    const taken = aggregates.takeSettled(T0 + 60_000 + 10_000, 10_000, outputs);
    assert.deepEqual(
      taken.filter((s) => s.tags[0] === 'a:1').map((s) => [s.metric, s.value, s.timestamp]),
      [
        ['n', 8, T0 / 1000],
        ['avg', 2, T0 / 1000],
        ['max', 6, T0 / 1000],
      ],
    );
    assert.equal(taken.length, 6);
    assert.equal(aggregates.add(at(0, 100)), false, 'a sent minute takes nothing more');
    assert.equal(aggregates.size, 1);
  });

  test('stored and read back, the aggregates are the same, to the last bit', () => {
    const aggregates = MinuteAggregates.startingAt(T0);
    for (let i = 0; i < 100; i++) aggregates.add(at(i % 3, 0.1 * i + 1e-7));
    const back = MinuteAggregates.fromStored(
      JSON.parse(JSON.stringify(aggregates.toStored())) as { w: number; seen: string[] },
    );
    assert.deepEqual(back.toStored(), aggregates.toStored());
    assert.deepEqual(
      back.takeSettled(T0 + 10 * 60_000, 0, outputs),
      aggregates.copy().takeSettled(T0 + 10 * 60_000, 0, outputs),
    );
  });
});
