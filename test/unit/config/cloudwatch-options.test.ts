/**
 * Configuration that looks valid but would do nothing is refused where it is written, with a fix:
 * statistics CloudWatch does not have, regions the AWS SDK does not know, and misleading hints (a
 * "string" hint about a string, a "close the bracket" hint for an indentation error).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Container } from 'inversify';
import { builtinChecksModule } from '../../../checks/index.js';
import type { CheckDefinition } from '../../../core/check/check.js';
import { isKnownRegion, suggestRegion } from '../../../core/aws/aws-regions.js';
import { isCloudWatchStatistic, suggestStatistic } from '../../../core/cloudwatch/cloudwatch-statistics.js';
import type { ConfigProblem } from '../../../core/config/config-problem.js';
import { loadConfd } from '../../../core/config/confd-loader.js';
import { checkDefinitions, createRootContainer } from '../../../core/container.js';
import { ManualClock } from '../../../core/clock.js';
import { createSilentLogger } from '../../../core/log/logger.js';
import { StatusRegistry } from '../../../core/status/status-registry.js';
import { removeTempDirs, writeConfd } from './fake-checks.js';

let container: Container;
let definitions: CheckDefinition[];
before(() => {
  container = createRootContainer({
    clock: new ManualClock(0),
    logger: createSilentLogger(),
    status: new StatusRegistry(),
    stateDir: '/nonexistent',
    modules: [builtinChecksModule],
  });
  definitions = checkDefinitions(container);
});
after(async () => {
  await container.unbindAllAsync();
  await removeTempDirs();
});

async function problemsFor(instance: string): Promise<ConfigProblem[]> {
  const confdDir = await writeConfd({
    'amazon_lambda.d/conf.yaml': `init_config:\ninstances:\n  - ${instance}\n`,
  });
  return [...(await loadConfd({ confdDir, definitions, env: {}, displayRoot: confdDir })).problems];
}

describe('statistics', () => {
  test("CloudWatch's statistics, their bounded forms and globs are accepted", async () => {
    const accepted = ['Average', 'SampleCount', 'IQM', 'p99', 'p99.9', 'p0', 'p100', 'tm99', 'wm98', 'tc90'];
    const ranges = [
      'ts90',
      'TM(10%:90%)',
      'TM(150:1000)',
      'WM(:95%)',
      'TS(80%:)',
      'PR(:300)',
      'TC(0.005:0.030)',
    ];
    for (const name of [...accepted, ...ranges]) assert.ok(isCloudWatchStatistic(name), name);
    for (const name of ['Median', 'p101', 'P99', 'tm', 'TM()', 'TM(:)', 'TM(10%:190%)', 'average'])
      assert.ok(!isCloudWatchStatistic(name), name);
    const list = JSON.stringify([...accepted, ...ranges, 'p9*', '/^p/']);
    assert.deepEqual(
      (await problemsFor(`regions: [us-east-1]\n    statistics: {exclude: ${list}}`)).map(String),
      [],
    );
  });

  test('an unknown statistic in include or exclude is refused with a did-you-mean', async () => {
    const problems = await problemsFor(
      'regions: [us-east-1]\n    statistics: {include: [P99, average], exclude: [Median, p999, Average]}',
    );
    const byPath = new Map(problems.map((p) => [p.keyPath, p]));
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(
      byPath.get('instances[0].statistics.exclude[0]')!.message,
      /found "Median" \(did you mean p50\?\)/,
    );
    assert.equal(byPath.get('instances[0].statistics.exclude[0]')!.hint, 'write "p50"');
    assert.match(byPath.get('instances[0].statistics.exclude[1]')!.message, /did you mean p99\.9\?/);
    assert.match(byPath.get('instances[0].statistics.include[0]')!.message, /did you mean p99\?/);
    assert.match(byPath.get('instances[0].statistics.include[1]')!.message, /did you mean Average\?/);
    assert.equal(byPath.get('instances[0].statistics.exclude[0]')!.line, 4);
    assert.equal(suggestStatistic('tm(10%:90%)'), 'TM(10%:90%)');
    assert.equal(suggestStatistic('xyz'), undefined);
  });
});

describe('regions', () => {
  test("every region of the AWS SDK's partitions is accepted, in every partition", async () => {
    for (const name of [
      'us-east-1',
      'eu-west-3',
      'ap-southeast-7',
      'us-gov-west-1',
      'cn-north-1',
      'eusc-de-east-1',
    ])
      assert.ok(isKnownRegion(name), name);
    for (const name of ['eu-west-9', 'us-east1', 'aws-global', 'US-EAST-1', 'moon-1'])
      assert.ok(!isKnownRegion(name), name);
    assert.deepEqual((await problemsFor('regions: [us-east-1, us-gov-west-1, cn-north-1]')).map(String), []);
  });

  test('an unknown region is refused with the regions it is closest to', async () => {
    const [unknown, ...rest] = await problemsFor('regions: [eu-west-9, us-east1]');
    assert.equal(rest.length, 1, String(rest));
    assert.equal(unknown!.keyPath, 'instances[0].regions[0]');
    assert.match(
      unknown!.message,
      /expected an AWS region .* that the AWS SDK knows, found "eu-west-9" \(did you mean eu-west-1\?; known: eu-west-2, eu-west-3\)/,
    );
    assert.match(unknown!.hint ?? '', /write eu-west-1; a region launched after this build .* newer AWS SDK/);
    const typo = rest[0]!;
    assert.match(typo.message, /found "us-east1" \(did you mean us-east-1\?\)/);
    assert.doesNotMatch(
      `${typo.message} ${typo.hint}`,
      /to a string/,
      'the hint must not ask for "a string"',
    );
    assert.equal(suggestRegion('useast1'), 'us-east-1');
  });
});

describe('hints', () => {
  test('a malformed role ARN names the shape it needs, not "a string"', async () => {
    const [problem] = await problemsFor('regions: [us-east-1]\n    role_arn: arn:aws:iam::123:role/x');
    assert.match(
      problem!.message,
      /^expected an IAM role ARN such as arn:aws:iam::123456789012:role\/dogwatch, found/,
    );
    assert.match(
      problem!.hint ?? '',
      /^set `role_arn` to an IAM role ARN such as arn:aws:iam::123456789012:role\/dogwatch \(IAM role to assume/,
    );
  });

  test('an indentation error says to indent, not to close a bracket or quote', async () => {
    const confdDir = await writeConfd({
      'amazon_lambda.d/conf.yaml': 'init_config:\ninstances:\n  - regions: [us-east-1]\n   period: 60\n',
    });
    const [problem] = (await loadConfd({ confdDir, definitions, env: {}, displayRoot: confdDir })).problems;
    assert.equal(problem!.line, 4);
    assert.doesNotMatch(problem!.hint ?? '', /bracket|quote/);
    assert.match(problem!.hint ?? '', /indent/);
  });
});

describe('enhanced_metrics', () => {
  test('needs collect_logs: refused where it is written, with the fix', async () => {
    const [problem, ...more] = await problemsFor('regions: [us-east-1]\n    enhanced_metrics: true');
    assert.deepEqual(more, []);
    assert.equal(problem!.keyPath, 'instances[0].enhanced_metrics');
    assert.equal(problem!.line, 4);
    assert.match(problem!.message, /^expected collect_logs: true beside enhanced_metrics/);
    assert.equal(problem!.hint, 'add `collect_logs: true` to this instance, or remove `enhanced_metrics`');
    assert.deepEqual(
      await problemsFor('regions: [us-east-1]\n    collect_logs: true\n    enhanced_metrics: true'),
      [],
    );
  });
});
