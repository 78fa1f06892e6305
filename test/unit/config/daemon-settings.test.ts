import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../../../core/config/config-problem.js';
import { loadDaemonSettings, type LoadDaemonSettingsOptions } from '../../../core/config/daemon-settings.js';

const CWD = '/srv/dogwatch';

/** A file system holding only the given files. */
function files(contents: Record<string, string>): (path: string) => string | undefined {
  return (path) => contents[path];
}

function load(options: Partial<LoadDaemonSettingsOptions> = {}) {
  return loadDaemonSettings({ env: {}, readFile: files({}), cwd: CWD, stderrIsTty: false, ...options });
}

function problemsOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected a ConfigError');
}

describe('daemon settings', () => {
  test('defaults: UDP 127.0.0.1:8125 with 1432-byte datagrams, loopback status listener, info', () => {
    const settings = load();
    assert.equal(settings.configFile, undefined);
    assert.deepEqual(settings.dogstatsd, {
      transport: 'udp',
      host: '127.0.0.1',
      port: 8125,
      maxDatagramBytes: 1432,
    });
    assert.deepEqual(settings.statusAddress, { host: '127.0.0.1', port: 5005 });
    assert.equal(settings.confdPath, resolve(CWD, 'conf.d'));
    assert.equal(settings.stateDir, resolve(CWD, '.state'));
    assert.equal(settings.logLevel, 'info');
    assert.equal(settings.logFormat, 'json');
    assert.equal(load({ stderrIsTty: true }).logFormat, 'text');
    assert.equal(settings.secretBackend, undefined);
    assert.deepEqual(settings.tags, []);
    assert.ok(settings.runTimeoutSeconds > 0 && settings.shutdownDeadlineSeconds > 0);
  });

  test('precedence is flags > env > file > default, and ./dogwatch.yaml is read when present', () => {
    const readFile = files({
      [resolve(CWD, 'dogwatch.yaml')]: [
        'confd_path: from-file/conf.d',
        'state_dir: /var/lib/dogwatch',
        'log_level: debug',
        'status_addr: 127.0.0.1:6000',
      ].join('\n'),
    });
    const fileOnly = load({ readFile });
    assert.equal(fileOnly.configFile, resolve(CWD, 'dogwatch.yaml'));
    assert.equal(fileOnly.confdPath, resolve(CWD, 'from-file/conf.d'));
    assert.equal(fileOnly.stateDir, '/var/lib/dogwatch');
    assert.equal(fileOnly.logLevel, 'debug');
    assert.deepEqual(fileOnly.statusAddress, { host: '127.0.0.1', port: 6000 });

    const env = {
      DOGWATCH_CONFD: 'env-confd',
      DOGWATCH_LOG_LEVEL: 'warn',
      DOGWATCH_STATUS_ADDR: '127.0.0.1:7000',
    };
    const withEnv = load({ readFile, env });
    assert.equal(withEnv.confdPath, resolve(CWD, 'env-confd'));
    assert.equal(withEnv.logLevel, 'warn');
    assert.deepEqual(withEnv.statusAddress, { host: '127.0.0.1', port: 7000 });
    assert.equal(withEnv.stateDir, '/var/lib/dogwatch');

    const withFlags = load({
      readFile,
      env,
      flags: { confd: '/etc/conf.d', statusAddr: 'off', logLevel: 'error' },
    });
    assert.equal(withFlags.confdPath, '/etc/conf.d');
    assert.equal(withFlags.statusAddress, undefined);
    assert.equal(withFlags.logLevel, 'error');
  });

  test('--config wins over DOGWATCH_CONFIG; relative paths in the file are relative to the file', () => {
    const readFile = files({
      '/etc/dogwatch/main.yaml': 'confd_path: conf.d\n',
      '/etc/other.yaml': 'confd_path: elsewhere\n',
    });
    const settings = load({
      readFile,
      flags: { config: '/etc/dogwatch/main.yaml' },
      env: { DOGWATCH_CONFIG: '/etc/other.yaml' },
    });
    assert.equal(settings.configFile, '/etc/dogwatch/main.yaml');
    assert.equal(settings.confdPath, '/etc/dogwatch/conf.d');
    assert.equal(load({ readFile, env: { DOGWATCH_CONFIG: '/etc/other.yaml' } }).confdPath, '/etc/elsewhere');
  });

  test('an explicit config file that does not exist is an error', () => {
    const error = problemsOf(() => load({ flags: { config: 'missing.yaml' } }));
    assert.equal(error.problems[0]?.keyPath, '--config');
    assert.match(
      String(error.problems[0]),
      /missing\.yaml: --config: expected a settings file here, found none/,
    );
  });

  test('DD_DOGSTATSD_URL unix:// selects UDS with 8192-byte datagrams, over DD_AGENT_HOST and the file', () => {
    const readFile = files({ [resolve(CWD, 'dogwatch.yaml')]: 'dogstatsd_url: udp://10.0.0.1:9125\n' });
    assert.deepEqual(load({ readFile }).dogstatsd, {
      transport: 'udp',
      host: '10.0.0.1',
      port: 9125,
      maxDatagramBytes: 1432,
    });
    assert.deepEqual(
      load({ readFile, env: { DD_AGENT_HOST: 'agent', DD_DOGSTATSD_PORT: '8126' } }).dogstatsd,
      {
        transport: 'udp',
        host: 'agent',
        port: 8126,
        maxDatagramBytes: 1432,
      },
    );
    const uds = load({
      readFile,
      env: { DD_DOGSTATSD_URL: 'unix:///var/run/datadog/dsd.socket', DD_AGENT_HOST: 'agent' },
    });
    assert.deepEqual(uds.dogstatsd, {
      transport: 'uds',
      path: '/var/run/datadog/dsd.socket',
      maxDatagramBytes: 8192,
    });
    assert.equal(load({ env: { DD_DOGSTATSD_URL: 'udp://[::1]:8125' } }).dogstatsd.transport, 'udp');
  });

  test('a malformed DD_DOGSTATSD_URL names the variable, what was expected and what was found', () => {
    const error = problemsOf(() => load({ env: { DD_DOGSTATSD_URL: 'unix://relative.sock' } }));
    assert.equal(
      String(error.problems[0]),
      'environment: DD_DOGSTATSD_URL: expected udp://host:port or unix:///absolute/path/to/dsd.socket, found "unix://relative.sock" — fix: fix or unset DD_DOGSTATSD_URL',
    );
  });

  test("a DOGWATCH_LOGS_URL that is not the local Agent's TCP listener is refused, saying what is expected", () => {
    for (const found of [
      'https://http-intake.logs.datadoghq.com',
      'tcp://intake.logs.datadoghq.eu:10516',
      'udp://127.0.0.1:10518',
    ]) {
      const error = problemsOf(() => load({ env: { DOGWATCH_LOGS_URL: found } }));
      assert.equal(
        String(error.problems[0]),
        `environment: DOGWATCH_LOGS_URL: expected tcp://host:port, the local Agent's TCP logs listener (not Datadog's intake: the Agent forwards to it), found "${found}" — fix: fix or unset DOGWATCH_LOGS_URL`,
      );
    }
  });

  test('DD_TAGS (space or comma separated) replaces file tags; DD_ENV, DD_SERVICE, DD_VERSION add tags', () => {
    const readFile = files({ [resolve(CWD, 'dogwatch.yaml')]: 'tags: [team:core, tier:1]\n' });
    assert.deepEqual(load({ readFile, env: { DD_ENV: 'prod' } }).tags, ['team:core', 'tier:1', 'env:prod']);
    assert.deepEqual(
      load({ readFile, env: { DD_TAGS: 'a:1 b:2,c:3', DD_SERVICE: 'dogwatch', DD_VERSION: '1.2.3' } }).tags,
      ['a:1', 'b:2', 'c:3', 'service:dogwatch', 'version:1.2.3'],
    );
  });

  test('the status listener never binds every interface unless written explicitly', () => {
    assert.deepEqual(load({ env: { DOGWATCH_STATUS_ADDR: ':5006' } }).statusAddress, {
      host: '127.0.0.1',
      port: 5006,
    });
    assert.deepEqual(load({ env: { DOGWATCH_STATUS_ADDR: '5007' } }).statusAddress, {
      host: '127.0.0.1',
      port: 5007,
    });
    assert.deepEqual(load({ env: { DOGWATCH_STATUS_ADDR: '0.0.0.0:5005' } }).statusAddress, {
      host: '0.0.0.0',
      port: 5005,
    });
    assert.deepEqual(load({ flags: { statusAddr: '[::]:5005' } }).statusAddress, { host: '::', port: 5005 });
    const error = problemsOf(() => load({ flags: { statusAddr: '*:5005' } }));
    assert.match(String(error.problems[0]), /^command line: --status-addr: expected host:port/);
  });

  test('file problems name the file, line, key, expected and found, with did-you-mean', () => {
    const path = resolve(CWD, 'dogwatch.yaml');
    const readFile = files({
      [path]: [
        'log_level: info',
        'stauts_addr: 127.0.0.1:1',
        'max_datagram_bytes: 65000',
        'log_format: xml',
      ].join('\n'),
    });
    const error = problemsOf(() => load({ readFile }));
    const byKey = new Map(error.problems.map((p) => [p.keyPath, p]));
    const unknown = byKey.get('stauts_addr');
    assert.equal(unknown?.file, path);
    assert.equal(unknown?.line, 2);
    assert.match(unknown?.message ?? '', /did you mean status_addr\?/);
    assert.equal(byKey.get('max_datagram_bytes')?.line, 3);
    assert.match(
      byKey.get('max_datagram_bytes')?.message ?? '',
      /expected an integer ≥ 512 and ≤ 8192, found 65000/,
    );
    assert.match(byKey.get('log_format')?.message ?? '', /expected one of "text", "json", found "xml"/);
    assert.match(error.message, /invalid configuration \(3 problems\)/);
  });

  test('invalid YAML in dogwatch.yaml reports the parser position', () => {
    const readFile = files({ [resolve(CWD, 'dogwatch.yaml')]: 'tags: [a\nlog_level: info\n' });
    const problem = problemsOf(() => load({ readFile })).problems[0];
    assert.equal(problem?.line, 2);
    assert.match(problem?.message ?? '', /invalid YAML/);
  });

  test('secret backend settings, with a 30 s default timeout', () => {
    const readFile = files({
      '/etc/dogwatch/dogwatch.yaml':
        'secret_backend_command: ./bin/secrets\nsecret_backend_arguments: [--vault, prod]\n',
    });
    const settings = load({ readFile, flags: { config: '/etc/dogwatch/dogwatch.yaml' } });
    assert.deepEqual(settings.secretBackend, {
      command: '/etc/dogwatch/bin/secrets',
      arguments: ['--vault', 'prod'],
      timeoutSeconds: 30,
      allowGroupExec: false,
    });
  });

  test("the Agent's DD_SECRET_BACKEND_* variables work; dogwatch's own names win over them", () => {
    const agent = load({
      env: {
        DD_SECRET_BACKEND_COMMAND: '/opt/secrets/bin/fetch',
        DD_SECRET_BACKEND_ARGUMENTS: '--vault prod',
        DD_SECRET_BACKEND_TIMEOUT: '12',
        DD_SECRET_BACKEND_COMMAND_ALLOW_GROUP_EXEC_PERM: 'true',
      },
    });
    assert.deepEqual(agent.secretBackend, {
      command: '/opt/secrets/bin/fetch',
      arguments: ['--vault', 'prod'],
      timeoutSeconds: 12,
      allowGroupExec: true,
    });
    const both = load({
      env: {
        DD_SECRET_BACKEND_COMMAND: '/opt/agent-secrets',
        DOGWATCH_SECRET_BACKEND_COMMAND: '/opt/dogwatch-secrets',
        DD_SECRET_BACKEND_TIMEOUT: '12',
      },
    });
    assert.equal(both.secretBackend?.command, '/opt/dogwatch-secrets');
    assert.equal(both.secretBackend?.timeoutSeconds, 12);
    const bad = problemsOf(() =>
      load({ env: { DD_SECRET_BACKEND_COMMAND: '/x', DD_SECRET_BACKEND_TIMEOUT: 'soon' } }),
    );
    assert.equal(bad.problems[0]?.keyPath, 'DD_SECRET_BACKEND_TIMEOUT');
    assert.match(
      String(bad.problems[0]),
      /expected a number of seconds .* found "soon" — fix: fix or unset DD_SECRET_BACKEND_TIMEOUT/,
    );
  });
});
