/**
 * The daemon settings are declared once (core/config/daemon-settings-table.ts); these tests hold what is
 * derived from the declarations to them: the precedence of every setting, the flags of the command line,
 * the dogwatch.yaml schema and the README's table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import type { Option } from 'commander';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../../../core/cli/program.js';
import { flagOption, type DaemonFlags, type SettingFlag } from '../../../core/config/daemon-setting.js';
import { daemonFlagOptions, daemonSettingsMarkdownTable } from '../../../core/config/daemon-settings-docs.js';
import {
  CONFIG_FILE_SETTING,
  DAEMON_SETTING_KEYS,
  DAEMON_SETTINGS,
  type DaemonSettingKey,
} from '../../../core/config/daemon-settings-table.js';
import {
  daemonFileSchema,
  loadDaemonSettings,
  type DaemonSettings,
} from '../../../core/config/daemon-settings.js';
import { inputJsonSchema } from '../../../core/config/schema-description.js';
import { packageRoot } from '../../../core/package-root.js';

const CWD = '/srv/dogwatch';
const FILE = '/etc/dogwatch/dogwatch.yaml';

/**
 * Three values of a setting, each different from the one it overrides, and where the result shows in
 * DaemonSettings. `alsoInFile` holds what the setting needs to be read at all (a secret backend command).
 */
interface Sample {
  readonly file: string;
  readonly env: string;
  readonly flag?: string;
  readonly alsoInFile?: string;
  readonly read: (settings: DaemonSettings) => unknown;
  readonly expected: {
    readonly default: unknown;
    readonly file: unknown;
    readonly env: unknown;
    readonly flag?: unknown;
  };
}

const withCommand = 'secret_backend_command: /bin/true';

const SAMPLES: { readonly [K in DaemonSettingKey]: Sample } = {
  dogstatsd_url: {
    file: 'udp://10.0.0.1:9125',
    env: 'unix:///run/dsd.socket',
    read: ({ dogstatsd: { maxDatagramBytes: _, ...target } }) => target,
    expected: {
      default: { transport: 'udp', host: '127.0.0.1', port: 8125 },
      file: { transport: 'udp', host: '10.0.0.1', port: 9125 },
      env: { transport: 'uds', path: '/run/dsd.socket' },
    },
  },
  logs_url: {
    file: 'tcp://127.0.0.1:10600',
    env: 'tcp://agent:10700',
    read: (settings) => settings.logs,
    expected: {
      default: { host: '127.0.0.1', port: 10518 },
      file: { host: '127.0.0.1', port: 10600 },
      env: { host: 'agent', port: 10700 },
    },
  },
  max_datagram_bytes: {
    file: '4096',
    env: '2048',
    read: (settings) => settings.dogstatsd.maxDatagramBytes,
    expected: { default: 1432, file: 4096, env: 2048 },
  },
  tags: {
    file: '[a:1]',
    env: 'b:2',
    read: (settings) => settings.tags,
    expected: { default: [], file: ['a:1'], env: ['b:2'] },
  },
  confd_path: {
    file: 'file-confd',
    env: 'env-confd',
    flag: '/flag/confd',
    read: (settings) => settings.confdPath,
    expected: {
      default: resolve(CWD, 'conf.d'),
      file: resolve(dirname(FILE), 'file-confd'),
      env: resolve(CWD, 'env-confd'),
      flag: '/flag/confd',
    },
  },
  state_dir: {
    file: 'file-state',
    env: 'env-state',
    flag: 'flag-state',
    read: (settings) => settings.stateDir,
    expected: {
      default: resolve(CWD, '.state'),
      file: resolve(dirname(FILE), 'file-state'),
      env: resolve(CWD, 'env-state'),
      flag: resolve(CWD, 'flag-state'),
    },
  },
  log_level: {
    file: 'debug',
    env: 'warn',
    flag: 'error',
    read: (settings) => settings.logLevel,
    expected: { default: 'info', file: 'debug', env: 'warn', flag: 'error' },
  },
  log_format: {
    file: 'text',
    env: 'json',
    flag: 'text',
    read: (settings) => settings.logFormat,
    expected: { default: 'json', file: 'text', env: 'json', flag: 'text' },
  },
  status_addr: {
    file: '127.0.0.1:6000',
    env: ':7000',
    flag: 'off',
    read: (settings) => settings.statusAddress,
    expected: {
      default: { host: '127.0.0.1', port: 5005 },
      file: { host: '127.0.0.1', port: 6000 },
      env: { host: '127.0.0.1', port: 7000 },
      flag: undefined,
    },
  },
  secret_backend_command: {
    file: './bin/secrets',
    env: 'bin/env-secrets',
    read: (settings) => settings.secretBackend?.command,
    expected: {
      default: undefined,
      file: resolve(dirname(FILE), 'bin/secrets'),
      env: resolve(CWD, 'bin/env-secrets'),
    },
  },
  secret_backend_arguments: {
    file: '[--vault, prod]',
    env: '--vault staging',
    alsoInFile: withCommand,
    read: (settings) => settings.secretBackend?.arguments,
    expected: { default: [], file: ['--vault', 'prod'], env: ['--vault', 'staging'] },
  },
  secret_backend_timeout: {
    file: '5',
    env: '12',
    alsoInFile: withCommand,
    read: (settings) => settings.secretBackend?.timeoutSeconds,
    expected: { default: 30, file: 5, env: 12 },
  },
  secret_backend_command_allow_group_exec_perm: {
    file: 'true',
    env: 'false',
    alsoInFile: withCommand,
    read: (settings) => settings.secretBackend?.allowGroupExec,
    expected: { default: false, file: true, env: false },
  },
  run_timeout: {
    file: '60',
    env: '1',
    read: (settings) => settings.runTimeoutSeconds,
    expected: { default: 120, file: 60, env: 1 },
  },
  shutdown_deadline: {
    file: '5',
    env: '3',
    read: (settings) => settings.shutdownDeadlineSeconds,
    expected: { default: 20, file: 5, env: 3 },
  },
};

function load(options: { file?: string; env?: Record<string, string>; flags?: DaemonFlags }) {
  return loadDaemonSettings({
    flags: { config: FILE, ...options.flags },
    env: options.env ?? {},
    readFile: (path) => (path === FILE ? (options.file ?? '') : undefined),
    cwd: CWD,
    stderrIsTty: false,
  });
}

describe('every daemon setting resolves flag → environment → dogwatch.yaml → default', () => {
  for (const key of DAEMON_SETTING_KEYS) {
    test(key, () => {
      const declared = DAEMON_SETTINGS[key];
      const sample = SAMPLES[key];
      const base = sample.alsoInFile !== undefined ? `${sample.alsoInFile}\n` : '';
      const file = `${base}${key}: ${sample.file}\n`;
      const [firstEnv] = declared.env.names;
      assert.ok(firstEnv !== undefined);
      const env = { [firstEnv]: sample.env };

      assert.deepEqual(sample.read(load({ file: base })), sample.expected.default, 'default');
      assert.deepEqual(sample.read(load({ file })), sample.expected.file, 'dogwatch.yaml over the default');
      assert.deepEqual(
        sample.read(load({ file, env })),
        sample.expected.env,
        `${firstEnv} over dogwatch.yaml`,
      );
      const flag: SettingFlag | undefined = declared.flag;
      assert.equal(
        flag !== undefined,
        sample.flag !== undefined,
        'a sample for the flag, if and only if declared',
      );
      if (flag !== undefined && sample.flag !== undefined) {
        const flags = { [flag.name]: sample.flag };
        assert.deepEqual(
          sample.read(load({ file, env, flags })),
          sample.expected.flag,
          `${flagOption(flag)} over ${firstEnv}`,
        );
      }
    });
  }

  test("dogwatch's DOGWATCH_SECRET_BACKEND_* win over the Agent's DD_SECRET_BACKEND_*, which work alone", () => {
    const keys = DAEMON_SETTING_KEYS.filter((key) => key.startsWith('secret_backend_'));
    assert.equal(keys.length, 4);
    for (const key of keys) {
      const sample = SAMPLES[key];
      const [own = '', agent = ''] = DAEMON_SETTINGS[key].env.names;
      assert.ok(own.startsWith('DOGWATCH_') && agent.startsWith('DD_'), key);
      const file = sample.alsoInFile ?? '';
      assert.deepEqual(sample.read(load({ file, env: { [agent]: sample.env } })), sample.expected.env, agent);
      assert.deepEqual(
        sample.read(load({ file, env: { [own]: sample.env, [agent]: 'malformed? never read' } })),
        sample.expected.env,
        own,
      );
    }
  });
});

describe('what is derived from the declarations', () => {
  test('each daemon command takes every declared flag, under the name the settings read it by', () => {
    const declared: SettingFlag[] = [
      CONFIG_FILE_SETTING.flag,
      ...DAEMON_SETTING_KEYS.flatMap((key) => {
        const flag: SettingFlag | undefined = DAEMON_SETTINGS[key].flag;
        return flag !== undefined ? [flag] : [];
      }),
    ];
    const program = buildProgram({
      loadChecks: () => Promise.reject(new Error('no command runs here: only the options are read')),
    });
    for (const name of ['run', 'check', 'configcheck', 'status', 'health']) {
      const command = program.commands.find((candidate) => candidate.name() === name);
      assert.ok(command, name);
      for (const flag of declared) {
        const option: Option | undefined = command.options.find(
          (candidate) => candidate.long === flagOption(flag),
        );
        assert.ok(option, `${name} ${flagOption(flag)}`);
        assert.equal(option.attributeName(), flag.name);
        assert.deepEqual(option.argChoices, flag.choices !== undefined ? [...flag.choices] : undefined);
      }
    }
    assert.equal(daemonFlagOptions().length, declared.length);
    const help = program.commands.find((command) => command.name() === 'run')?.helpInformation() ?? '';
    for (const variable of [
      'DOGWATCH_CONFIG',
      'DOGWATCH_CONFD',
      'DOGWATCH_STATE_DIR',
      'DOGWATCH_STATUS_ADDR',
    ])
      assert.match(help.replace(/\s+/g, ' '), new RegExp(`env ${variable}`));
  });

  test("dogwatch.yaml's options are the declared keys, each described with its variables and flag", () => {
    const properties = inputJsonSchema(daemonFileSchema).properties ?? {};
    assert.deepEqual(Object.keys(properties), DAEMON_SETTING_KEYS);
    for (const key of DAEMON_SETTING_KEYS) {
      const setting = DAEMON_SETTINGS[key];
      const property = properties[key];
      const description = typeof property === 'object' ? (property.description ?? '') : '';
      for (const name of setting.env.names) assert.ok(description.includes(name), `${key}: ${name}`);
      const flag: SettingFlag | undefined = setting.flag;
      if (flag !== undefined) assert.ok(description.includes(flagOption(flag)), key);
    }
  });

  test('the README\'s "Daemon settings" table is the declarations\' table', () => {
    const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Daemon settings'));
    const lines = section.split('\n');
    const first = lines.findIndex((line) => line.startsWith('|'));
    const end = lines.findIndex((line, index) => index > first && !line.startsWith('|'));
    const committed = lines.slice(first, end).join('\n');
    const expected = daemonSettingsMarkdownTable();
    assert.equal(committed, expected, `README.md is stale; its table should read:\n${expected}\n`);
  });

  test('the declarations, and --help built from them, import no package (zod stays unloaded for `health`)', () => {
    const dist = fileURLToPath(new URL('../../../core/config/', import.meta.url));
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(file, 'utf8');
      // Static imports only: a dynamic import() loads when it runs (status-address.ts reads YAML so).
      for (const match of code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;(]*?from\s*'([^']+)'/g)) {
        const specifier = match[1] ?? '';
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
        else packages.add(specifier);
      }
    };
    visit(join(dist, 'daemon-settings-docs.js'));
    assert.ok(seen.has(join(dist, 'daemon-settings-table.js')));
    assert.deepEqual(
      [...packages].filter((name) => !name.startsWith('node:')),
      [],
      `packages loaded by ${[...seen].join(', ')}`,
    );
  });
});
