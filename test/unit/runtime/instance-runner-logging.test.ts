/** What an instance runner logs: the Agent keys it ignores (debug). */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Container } from 'inversify';
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
