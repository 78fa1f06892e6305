/**
 * What an instance runner logs: one line per run as the Agent's "Done running check" (INFO, with the
 * duration and counts), and the Agent keys it ignores (DEBUG).
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Container } from 'inversify';
import type { Check, CheckDefinition, CheckRunContext } from '../../../core/check/check.js';
import type { LoadedInstance } from '../../../core/config/loaded-instance.js';
import { createLogger } from '../../../core/log/logger.js';
import { InstanceRunner } from '../../../core/runtime/instance-runner.js';
import { MemorySink } from '../../../core/sink/memory-sink.js';
import { StatusRegistry } from '../../../core/status/status-registry.js';
import { fakeLambda } from '../config/fake-checks.js';

interface LogLine {
  level: string;
  message: string;
}

function captureLogger(level: 'debug' | 'info') {
  const stream = new PassThrough();
  const lines: LogLine[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const text of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(text));
  });
  return { logger: createLogger({ level, format: 'json', stream }), lines };
}

function instance(extra: Partial<LoadedInstance> = {}): LoadedInstance {
  return {
    checkName: 'amazon_lambda',
    instanceId: 'amazon_lambda:abc',
    source: { file: 'conf.yaml', line: 3 },
    initConfig: {},
    config: { regions: ['us-east-1'] },
    reserved: { min_collection_interval: 60, tags: [], empty_default_hostname: true },
    secretPaths: [],
    definition: fakeLambda,
    ...extra,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('an instance with ignored Agent keys says so at debug level, naming each key and why', async () => {
  const { logger, lines } = captureLogger('debug');
  new InstanceRunner({
    instance: instance({ ignoredKeys: ['no_index', 'init_config.loader'] }),
    root: new Container(),
    sink: new MemorySink(),
    status: new StatusRegistry(),
    logger,
    globalTags: [],
    runTimeoutMs: 1000,
  });
  await settle();
  const debug = lines.filter((line) => line.level === 'debug').map((line) => line.message);
  assert.equal(debug.length, 2, JSON.stringify(lines));
  assert.match(debug[0]!, /^no_index: ignored \(the Agent sends such metrics as not to be indexed; .*\)$/);
  assert.match(debug[1]!, /^init_config\.loader: ignored \(the Agent picks a check loader .*\)$/);
});

class TwoGaugesAndAnEvent implements Check {
  run(context: CheckRunContext): Promise<void> {
    context.submit.gauge('demo.a', 1);
    context.submit.gauge('demo.b', 2);
    context.submit.event('deployed', 'v2');
    return Promise.resolve();
  }
}

class Failing implements Check {
  run(context: CheckRunContext): Promise<void> {
    context.submit.gauge('demo.a', 1);
    return Promise.reject(new Error('AccessDenied: not authorized to call cloudwatch:GetMetricData'));
  }
}

function runnerFor(checkClass: CheckDefinition['checkClass'], level: 'debug' | 'info') {
  const { logger, lines } = captureLogger(level);
  const runner = new InstanceRunner({
    instance: instance({ definition: { ...fakeLambda, checkClass } }),
    root: new Container(),
    sink: new MemorySink(),
    status: new StatusRegistry(),
    logger,
    globalTags: [],
    runTimeoutMs: 1000,
  });
  return { runner, lines };
}

test('every run logs one INFO line with its duration, metric samples, events and service checks', async () => {
  const { runner, lines } = runnerFor(TwoGaugesAndAnEvent, 'info');
  await runner.run();
  await runner.run();
  await settle();
  const info = lines.filter((line) => line.level === 'info');
  assert.equal(info.length, 2, JSON.stringify(lines));
  assert.match(
    info[0]!.message,
    /^Done running check in \d+ ms: 2 metric samples, 1 events, 1 service checks$/,
  );
  assert.equal((info[0] as unknown as { instance: string }).instance, 'amazon_lambda:abc');
});

test('`dogwatch check` runs log that line at DEBUG (the command prints its own summary)', async () => {
  const { runner, lines } = runnerFor(TwoGaugesAndAnEvent, 'debug');
  await runner.run({ dryRun: true, sink: new MemorySink() });
  await settle();
  assert.deepEqual(
    lines.filter((line) => line.message.startsWith('Done running check')).map((line) => line.level),
    ['debug'],
  );
});

test('a failed run logs one ERROR line with the counts and the reason', async () => {
  const { runner, lines } = runnerFor(Failing, 'info');
  await runner.run();
  await settle();
  assert.deepEqual(
    lines.map((line) => line.level),
    ['error'],
  );
  assert.match(
    lines[0]!.message,
    /^run failed after \d+ ms: 1 metric samples, 0 events, 1 service checks: AccessDenied: not authorized/,
  );
});
