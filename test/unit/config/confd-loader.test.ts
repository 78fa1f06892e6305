import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ConfigProblem } from '../../../core/config/config-problem.js';
import { loadConfd, type ConfdLoadResult } from '../../../core/config/confd-loader.js';
import { CommandSecretResolver } from '../../../core/config/secret-resolver.js';
import { CANARY, definitions, writeConfd, writeSecretBackend, removeTempDirs } from './fake-checks.js';

after(removeTempDirs);

const GOOD_REKOGNITION = `init_config:
instances:
  - region: eu-west-1
`;

async function load(
  files: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ConfdLoadResult> {
  const confdDir = await writeConfd(files);
  return loadConfd({ confdDir, definitions, env, displayRoot: confdDir });
}

function only(problems: readonly ConfigProblem[], keyPath?: string): ConfigProblem {
  const matching = keyPath === undefined ? problems : problems.filter((p) => p.keyPath === keyPath);
  assert.equal(
    matching.length,
    1,
    `expected one problem at ${keyPath ?? '(any)'}, got:\n${problems.join('\n')}`,
  );
  return matching[0]!;
}

function loadedRegions(result: ConfdLoadResult): unknown[] {
  return result.instances.filter((i) => i.checkName === 'amazon_lambda').map((i) => i.config.regions);
}

describe('the bad-config corpus: each problem is located, the good instances beside it still load', () => {
  test('invalid YAML reports the parser line and column; other files load', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml': 'init_config:\ninstances:\n  - regions: [us-east-1\n    period: 60\n',
      'amazon_rekognition.d/conf.yaml': GOOD_REKOGNITION,
    });
    const problem = only(result.problems);
    assert.equal(problem.file, join('amazon_lambda.d', 'conf.yaml'));
    assert.ok(problem.line !== undefined && problem.line >= 3, String(problem));
    assert.ok(problem.column !== undefined);
    assert.match(problem.message, /invalid YAML/);
    assert.match(String(problem), /^amazon_lambda\.d\/conf\.yaml:\d+:\d+: invalid YAML: .+ — fix: /);
    assert.deepEqual(
      result.instances.map((i) => i.checkName),
      ['amazon_rekognition'],
    );
  });

  test('a wrong type names key path, line, expected and found; the other instance of the file loads', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml': [
        'init_config:', //        1
        '', //                    2
        'instances:', //          3
        '  - regions: [us-east-1]', // 4
        '  - regions: [eu-west-1]', // 5
        '    period: fast', //    6
        '  - regions: [1]', //    7
      ].join('\n'),
    });
    const period = only(result.problems, 'instances[1].period');
    assert.equal(period.line, 6);
    assert.match(period.message, /expected an integer ≥ 60, found "fast"/);
    assert.match(period.hint ?? '', /CloudWatch period in seconds/);
    assert.equal(
      String(period).split(' — ')[0],
      'amazon_lambda.d/conf.yaml:6: instances[1].period: expected an integer ≥ 60, found "fast"',
    );
    const region = only(result.problems, 'instances[2].regions[0]');
    assert.equal(region.line, 7);
    assert.match(region.message, /expected a non-empty string, found 1/);
    assert.equal(result.problems.length, 2);
    assert.deepEqual(loadedRegions(result), [['us-east-1']]);
  });

  test('an unknown key is rejected with a did-you-mean hint', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml':
        'init_config:\ninstances:\n  - regions: all\n    peroid: 120\n  - regions: [us-east-2]\n',
    });
    const problem = only(result.problems, 'instances[0].peroid');
    assert.equal(problem.line, 4);
    assert.match(problem.message, /unknown option 'peroid' \(did you mean period\?\)/);
    assert.equal(problem.hint, 'rename it to `period`');
    assert.deepEqual(loadedRegions(result), [['us-east-2']]);
  });

  test('a folder naming an unknown check is a problem naming the folder, with a suggestion', async () => {
    const result = await load({
      'amazon_lamda.d/conf.yaml': 'init_config:\ninstances:\n  - regions: all\n',
      'amazon_lambda.d/conf.yaml': 'init_config:\ninstances:\n  - regions: all\n',
    });
    const problem = only(result.problems);
    assert.equal(problem.file, 'amazon_lamda.d');
    assert.match(problem.message, /^unknown check 'amazon_lamda' \(did you mean amazon_lambda\?\)/);
    assert.equal(problem.hint, 'rename the folder to amazon_lambda.d');
    assert.deepEqual(loadedRegions(result), ['all']);
  });

  test('a missing required key is reported at the line of its instance', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml':
        'init_config:\ninstances:\n  - regions: all\n  - period: 120\n    role_arn: arn:aws:iam::1:role/x\n',
    });
    const problem = only(result.problems, 'instances[1].regions');
    assert.equal(problem.line, 4);
    assert.match(
      problem.message,
      /missing required option: expected a non-empty list of non-empty strings or "all", found nothing/,
    );
    assert.match(problem.hint ?? '', /add `regions`/);
    assert.deepEqual(loadedRegions(result), ['all']);
  });

  test('a file without instances disables only that file', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml': 'init_config:\ninstance:\n  - regions: all\n',
      'amazon_rekognition.yaml': GOOD_REKOGNITION,
    });
    const unknown = only(result.problems, 'instance');
    assert.match(unknown.message, /did you mean instances\?/);
    assert.equal(unknown.line, 2);
    assert.ok(
      result.problems.some((p) => /expected a non-empty list of instances, found nothing/.test(p.message)),
    );
    assert.deepEqual(
      result.instances.map((i) => i.checkName),
      ['amazon_rekognition'],
    );
  });

  test('a bad init_config disables the instances of its file only', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml': 'init_config:\n  proxy: 8080\ninstances:\n  - regions: all\n',
      'amazon_lambda.d/other.yaml': 'init_config:\ninstances:\n  - regions: [us-east-1]\n',
    });
    const problem = only(result.problems, 'init_config.proxy');
    assert.equal(problem.line, 2);
    assert.match(problem.message, /no instance of this file was loaded/);
    assert.deepEqual(loadedRegions(result), [['us-east-1']]);
  });

  test('a bad cron schedule is reported with the cron parser reason', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml':
        'init_config:\ninstances:\n  - regions: all\n    schedule: "61 * * * *"\n  - regions: [us-east-1]\n    schedule: "*/5 * * * *"\n',
    });
    const problem = only(result.problems, 'instances[0].schedule');
    assert.equal(problem.line, 4);
    assert.match(
      problem.message,
      /expected a cron expression .* found "61 \* \* \* \*" \(61 is a invalid expression for minute\)/,
    );
    const [scheduled] = result.instances;
    assert.equal(scheduled?.reserved.schedule, '*/5 * * * *');
  });

  test('schedule and min_collection_interval together are refused', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml': [
        'init_config:',
        'instances:',
        '  - regions: all',
        '    min_collection_interval: 30',
        '    schedule: "* * * * *"',
        '  - regions: [us-east-1]',
        '    min_collection_interval: 30',
      ].join('\n'),
    });
    const problem = only(result.problems, 'instances[0].schedule');
    assert.equal(problem.line, 5);
    assert.match(problem.message, /expected either schedule or min_collection_interval, found both/);
    assert.equal(result.instances[0]?.reserved.min_collection_interval, 30);
  });

  test('a duplicate instance (same resolved config, or same name) is refused on the later one', async () => {
    const result = await load(
      {
        'amazon_lambda.d/conf.yaml': [
          'init_config:',
          'instances:',
          '  - regions: [us-east-1]',
          '    period: 60',
          '  - name: prod',
          '    regions: all',
        ].join('\n'),
        'amazon_lambda.d/more.yaml': [
          'init_config:',
          'instances:',
          '  - regions: ["${REGION}"]', // resolves to the first instance of conf.yaml, with period defaulted
          '  - regions: [eu-west-1]',
          '    name: prod',
        ].join('\n'),
      },
      { REGION: 'us-east-1' },
    );
    assert.equal(result.problems.length, 2, result.problems.join('\n'));
    const sameConfig = only(result.problems, 'instances[0]');
    assert.equal(sameConfig.file, join('amazon_lambda.d', 'more.yaml'));
    assert.equal(sameConfig.line, 3);
    assert.match(
      sameConfig.message,
      /found the same configuration as the instance at amazon_lambda\.d\/conf\.yaml:3/,
    );
    const sameName = only(result.problems, 'instances[1].name');
    assert.equal(sameName.line, 5);
    assert.match(sameName.message, /the same name 'prod'/);
    assert.deepEqual(loadedRegions(result), [['us-east-1'], 'all']);
  });

  test('an unset ${VAR} names the key; defaults and typed substitution work', async () => {
    const result = await load(
      {
        'amazon_lambda.d/conf.yaml': [
          'init_config:',
          'instances:',
          '  - regions: all',
          '    role_arn: ${MISSING_ROLE}',
          '  - regions: ["${REGION:-us-west-2}"]',
          '    period: ${PERIOD}',
          '    role_arn: "arn:aws:iam::${ACCOUNT}:role/reader"',
        ].join('\n'),
      },
      { PERIOD: '120', ACCOUNT: '123456789012' },
    );
    const problem = only(result.problems);
    assert.equal(problem.keyPath, 'instances[0].role_arn');
    assert.equal(problem.line, 4);
    assert.match(problem.message, /expected environment variable MISSING_ROLE to be set, found it unset/);
    assert.equal(result.instances.length, 1);
    assert.deepEqual(result.instances[0]?.config.regions, ['us-west-2']);
    assert.equal(result.instances[0]?.config.period, 120);
    assert.equal(result.instances[0]?.config.role_arn, 'arn:aws:iam::123456789012:role/reader');
  });

  test('Agent-style conf.d/<check>.yaml loads and *.example files are ignored', async () => {
    const result = await load({
      'amazon_lambda.yaml': 'init_config:\ninstances:\n  - regions: all\n',
      'amazon_lambda.d/conf.yaml.example': 'this: [is not: valid',
      'amazon_rekognition.d/conf.yml': GOOD_REKOGNITION,
    });
    assert.deepEqual(result.problems, []);
    assert.deepEqual(
      result.instances.map((i) => [i.checkName, i.source.file, i.source.line]),
      [
        ['amazon_lambda', 'amazon_lambda.yaml', 3],
        ['amazon_rekognition', join('amazon_rekognition.d', 'conf.yml'), 3],
      ],
    );
  });

  test('reserved keys get their defaults, the check default interval included', async () => {
    const result = await load({ 'amazon_rekognition.d/conf.yaml': GOOD_REKOGNITION });
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.instances[0]?.reserved, {
      min_collection_interval: 300,
      tags: [],
      empty_default_hostname: true,
    });
  });
});

describe("the Datadog Agent's reserved keys", () => {
  test('no_index and loader (instance) and service and loader (init_config) load; init service applies', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml': [
        'init_config:',
        '  service: web',
        '  loader: python',
        'instances:',
        '  - regions: [us-east-1]',
        '    no_index: true',
        '    loader: core',
        '  - regions: [eu-west-1]',
        '    service: own',
      ].join('\n'),
    });
    assert.deepEqual(result.problems.map(String), []);
    const [first, second] = result.instances;
    assert.equal(first?.reserved.service, 'web', "init_config's service applies to an instance without one");
    assert.equal(second?.reserved.service, 'own', "an instance's own service wins");
    assert.deepEqual(first?.ignoredKeys, ['no_index', 'loader', 'init_config.loader']);
    assert.deepEqual(second?.ignoredKeys, ['init_config.loader']);
  });

  test('other init_config keys are still refused, with a did-you-mean', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml': 'init_config:\n  servce: web\ninstances:\n  - regions: [us-east-1]\n',
    });
    const problem = only(result.problems, 'init_config.servce');
    assert.match(problem.message, /unknown option 'servce' \(did you mean service\?\)/);
  });
});

describe('ENC[] secrets through a real secret backend command', () => {
  test('resolves all handles in one call; an unresolvable handle is a located problem without secrets', async () => {
    const backend = await writeSecretBackend();
    const confdDir = await writeConfd({
      'amazon_lambda.d/conf.yaml': [
        'init_config:',
        '  proxy: ENC[good_proxy]',
        'instances:',
        '  - regions: all',
        '    role_arn: ENC[good_role]',
        '  - regions: [us-east-1]',
        '    api_token: ENC[missing_token]',
        '  - regions: [eu-west-1]',
        '    period: ENC[good_period]',
      ].join('\n'),
      'amazon_rekognition.d/conf.yaml': 'init_config:\ninstances:\n  - region: ENC[good_region]\n',
    });
    const result = await loadConfd({
      confdDir,
      definitions,
      env: {},
      secretResolver: new CommandSecretResolver({ command: backend.command, timeoutSeconds: 10 }),
      displayRoot: confdDir,
    });

    const calls = (await readFile(backend.callsLog, 'utf8')).trim().split('\n');
    assert.equal(calls.length, 1, 'one backend call per load');
    assert.deepEqual(JSON.parse(calls[0]!), {
      version: '1.0',
      secrets: ['good_proxy', 'good_role', 'missing_token', 'good_period', 'good_region'],
    });

    const missing = only(result.problems, 'instances[1].api_token');
    assert.equal(missing.line, 7);
    assert.match(missing.message, /unresolvable: the backend reported: no such secret/);
    // A secret resolved into a wrongly typed option is described, never quoted.
    const period = only(result.problems, 'instances[2].period');
    assert.equal(period.line, 9);
    assert.match(period.message, /found a secret value \(not shown\)/);
    for (const problem of result.problems) assert.doesNotMatch(String(problem), new RegExp(CANARY));

    const lambda = result.instances.find((i) => i.checkName === 'amazon_lambda');
    assert.equal(lambda?.config.role_arn, `${CANARY}-good_role`);
    assert.equal(lambda?.initConfig.proxy, `${CANARY}-good_proxy`);
    assert.deepEqual(lambda?.secretPaths, ['initConfig.proxy', 'config.role_arn']);
    const rekognition = result.instances.find((i) => i.checkName === 'amazon_rekognition');
    assert.equal(rekognition?.config.region, `${CANARY}-good_region`);
  });

  test('ENC[] inside a longer value is refused where it is, not sent as written', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml': [
        'init_config:',
        'instances:',
        '  - regions: [us-east-1]',
        '    tags: ["team:core", "owner:ENC[owner_handle]"]',
        '  - regions: [eu-west-1]',
      ].join('\n'),
    });
    const problem = only(result.problems, 'instances[0].tags[1]');
    assert.equal(problem.line, 4);
    assert.match(
      problem.message,
      /expected ENC\[\] to be the whole value .* found ENC\[ inside a longer value/,
    );
    assert.match(problem.hint ?? '', /write the whole value as ENC\[<handle>\]/);
    assert.doesNotMatch(String(problem), /owner_handle/);
    assert.deepEqual(loadedRegions(result), [['eu-west-1']]);
  });

  test('without a secret backend, ENC[] values are problems naming the key', async () => {
    const result = await load({
      'amazon_lambda.d/conf.yaml':
        'init_config:\ninstances:\n  - regions: all\n    role_arn: ENC[role]\n  - regions: [us-east-1]\n',
    });
    const problem = only(result.problems, 'instances[0].role_arn');
    assert.equal(problem.line, 4);
    assert.match(problem.message, /no secret backend is configured/);
    assert.match(problem.hint ?? '', /secret_backend_command/);
    assert.deepEqual(loadedRegions(result), [['us-east-1']]);
  });
});

describe('instance IDs', () => {
  const file = (instance: string, init = '') => ({
    'amazon_lambda.d/conf.yaml': `init_config:${init}\ninstances:\n${instance}`,
  });

  test('are stable across loads, independent of key order, and shaped <check>[:<name>]:<hash>', async () => {
    const first = await load(file('  - regions: all\n    period: 120\n'));
    const again = await load(file('  - period: 120\n    regions: all\n'));
    assert.match(first.instances[0]!.instanceId, /^amazon_lambda:[0-9a-f]{16}$/);
    assert.equal(first.instances[0]!.instanceId, again.instances[0]!.instanceId);
    const named = await load(file('  - regions: all\n    period: 120\n    name: prod\n'));
    assert.match(named.instances[0]!.instanceId, /^amazon_lambda:prod:[0-9a-f]{16}$/);
    const renamed = await load(file('  - regions: all\n    period: 120\n    name: staging\n'));
    assert.notEqual(
      named.instances[0]!.instanceId.split(':')[2],
      renamed.instances[0]!.instanceId.split(':')[2],
      'the name is part of the hashed config',
    );
    const otherInit = await load(file('  - regions: all\n    period: 120\n', '\n  proxy: http://p:3128'));
    assert.notEqual(otherInit.instances[0]!.instanceId, first.instances[0]!.instanceId);
  });

  test('hash the config as written, so a rotated secret keeps the ID', async () => {
    const backend = await writeSecretBackend();
    const confdDir = await writeConfd(file('  - regions: all\n    role_arn: ENC[good_role]\n'));
    const resolver = new CommandSecretResolver({ command: backend.command });
    const once = await loadConfd({ confdDir, definitions, env: {}, secretResolver: resolver });
    const rotated = await loadConfd({
      confdDir,
      definitions,
      env: {},
      secretResolver: {
        resolve: () => Promise.resolve(new Map([['good_role', { value: 'rotated-value' }]])),
      },
    });
    assert.equal(once.instances[0]!.instanceId, rotated.instances[0]!.instanceId);
    assert.doesNotMatch(once.instances[0]!.instanceId, /CANARY/);
  });
});
