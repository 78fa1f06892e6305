import assert from 'node:assert/strict';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfd } from '../../../core/config/confd-loader.js';
import { maskSecrets } from '../../../core/config/mask-secrets.js';
import {
  CommandSecretResolver,
  SecretBackendError,
  secretHandleOf,
} from '../../../core/config/secret-resolver.js';
import { secretBackendPermissionProblem } from '../../../core/config/secret-backend-permissions.js';
import { writeNodeScript } from '../../support/secret-backend.js';
import { CANARY, definitions, writeConfd, writeSecretBackend, removeTempDirs } from './fake-checks.js';

after(removeTempDirs);

test('maskSecrets hides ENC-resolved values and secret-named keys, keeps the rest', async () => {
  const backend = await writeSecretBackend();
  const confdDir = await writeConfd({
    'amazon_lambda.d/conf.yaml': [
      'init_config:',
      '  proxy: ENC[good_proxy]',
      'instances:',
      '  - regions: all',
      '    role_arn: ENC[good_role]',
      `    api_token: plain-${CANARY}`,
      '    tags: [team:core]',
    ].join('\n'),
  });
  const result = await loadConfd({
    confdDir,
    definitions,
    env: {},
    secretResolver: new CommandSecretResolver({ command: backend.command }),
  });
  assert.deepEqual(result.problems, []);
  const masked = maskSecrets(result.instances[0]!);
  assert.deepEqual(masked.initConfig, { proxy: '***' });
  assert.equal((masked.config as Record<string, unknown>).role_arn, '***');
  assert.equal((masked.config as Record<string, unknown>).api_token, '***');
  assert.deepEqual((masked.config as Record<string, unknown>).tags, ['team:core']);
  assert.equal((masked.config as Record<string, unknown>).regions, 'all');
  assert.doesNotMatch(JSON.stringify(masked), new RegExp(CANARY));
});

test('a secret-named option with a bad value is described, not quoted', async () => {
  const confdDir = await writeConfd({
    'amazon_lambda.d/conf.yaml': `init_config:\ninstances:\n  - regions: all\n    api_token: [${CANARY}]\n`,
  });
  const result = await loadConfd({ confdDir, definitions, env: {} });
  assert.equal(result.problems.length, 1);
  assert.match(result.problems[0]!.message, /found a secret value \(not shown\)/);
  assert.doesNotMatch(String(result.problems[0]), new RegExp(CANARY));
});

test('secretHandleOf accepts only a whole ENC[...] value', () => {
  assert.equal(secretHandleOf('ENC[db/password]'), 'db/password');
  assert.equal(secretHandleOf(' ENC[x] '), 'x');
  assert.equal(secretHandleOf('prefix ENC[x]'), undefined);
  assert.equal(secretHandleOf('ENC[]'), undefined);
});

test('backend failures reject with SecretBackendError and never quote its output', async () => {
  const dir = (await writeSecretBackend()).command.replace(/secret-backend\.mjs$/, '');
  const script = (name: string, body: string): string => writeNodeScript(join(dir, name), body);
  // Only the slow backend meets the timeout: the others get one no loaded machine reaches.
  const cases: Array<[string, string, RegExp, number]> = [
    ['garbage.mjs', `process.stdout.write('${CANARY} not json');`, /did not print valid JSON/, 30],
    ['exit.mjs', `process.stdout.write('${CANARY}'); process.exit(3);`, /exited with code 3/, 30],
    ['slow.mjs', 'setTimeout(() => {}, 60000);', /timed out after 0.3s/, 0.3],
  ];
  for (const [name, body, expected, timeoutSeconds] of cases) {
    const resolver = new CommandSecretResolver({ command: script(name, body), timeoutSeconds });
    await assert.rejects(resolver.resolve(['h']), (error: unknown) => {
      assert.ok(error instanceof SecretBackendError);
      assert.match(error.message, expected);
      assert.doesNotMatch(error.message, new RegExp(CANARY));
      return true;
    });
  }
  const missing = new CommandSecretResolver({ command: join(dir, 'does-not-exist') });
  await assert.rejects(missing.resolve(['h']), /secret backend command .*ENOENT/);
});

test('a failing backend turns every ENC[] value of the load into a located problem', async () => {
  const confdDir = await writeConfd({
    'amazon_lambda.d/conf.yaml':
      'init_config:\ninstances:\n  - regions: all\n    role_arn: ENC[r]\n  - regions: [us-east-1]\n',
  });
  const result = await loadConfd({
    confdDir,
    definitions,
    env: {},
    secretResolver: {
      resolve: () => Promise.reject(new SecretBackendError('the secret backend command exited with code 1')),
    },
  });
  assert.equal(result.problems.length, 1);
  assert.equal(result.problems[0]!.line, 4);
  assert.match(result.problems[0]!.message, /exited with code 1/);
  assert.equal(result.instances.length, 1);
});

test("the secret backend file follows the Agent's permission rules (owner only; group r-x when allowed)", async () => {
  const { command } = await writeSecretBackend();
  const cases: Array<[mode: number, allowGroupExec: boolean, refusal: RegExp | undefined]> = [
    [0o700, false, undefined],
    [0o100, false, undefined],
    [0o600, false, /not executable by this user/],
    [0o710, false, /'group' or 'others' have rights on it \(mode 710\).* chmod 700/],
    [0o701, false, /'group' or 'others' have rights on it/],
    [0o755, false, /'group' or 'others' have rights on it \(mode 755\)/],
    [0o750, true, undefined],
    [0o770, true, /'others' have rights on it or 'group' may write it \(mode 770\).* chmod 750/],
    [0o701, true, /'others' have rights on it/],
    [0o702, true, /'others' have rights on it/],
  ];
  for (const [mode, allowGroupExec, refusal] of cases) {
    await chmod(command, mode);
    const problem = secretBackendPermissionProblem(command, allowGroupExec);
    if (refusal === undefined) assert.equal(problem, undefined, `mode ${mode.toString(8)}`);
    else assert.match(problem ?? 'accepted', refusal, `mode ${mode.toString(8)}`);
  }
  assert.match(
    secretBackendPermissionProblem('no-such-backend-on-path', false) ?? '',
    /cannot find .* on PATH/,
  );
});

test('a group-writable backend is refused before it runs: every ENC[] value is a problem saying chmod', async () => {
  const backend = await writeSecretBackend();
  await chmod(backend.command, 0o775);
  const confdDir = await writeConfd({
    'amazon_lambda.d/conf.yaml': 'init_config:\ninstances:\n  - regions: all\n    role_arn: ENC[good_role]\n',
  });
  const result = await loadConfd({
    confdDir,
    definitions,
    env: {},
    secretResolver: new CommandSecretResolver({ command: backend.command }),
  });
  assert.equal(result.instances.length, 0);
  assert.match(
    String(result.problems[0]),
    /instances\[0\]\.role_arn: .*refusing to run the secret backend command .*chmod 700/,
  );
  await assert.rejects(readFile(backend.callsLog), { code: 'ENOENT' }, 'the backend must not have run');
});
