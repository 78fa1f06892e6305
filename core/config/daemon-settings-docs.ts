/**
 * What users read about the daemon settings, derived from their declarations (DAEMON_SETTINGS):
 * the `--help` of the flags, the descriptions of dogwatch.yaml's options (which problems quote) and
 * the README's table. Loads without zod, as the declarations do.
 */
import { flagOption, type DaemonSetting, type SettingFlag } from './daemon-setting.js';
import {
  CONFIG_FILE_SETTING,
  DAEMON_SETTING_KEYS,
  DAEMON_SETTINGS,
  type DaemonSettingKey,
} from './daemon-settings-table.js';

/** A flag as commander declares it: `-c, --config <path>` with its help line. */
export interface DaemonFlagOption {
  readonly flags: string;
  readonly description: string;
  readonly choices?: readonly string[];
}

/** Declarations keep Markdown to `code`; plain text drops the backticks. */
const plain = (markdown: string): string => markdown.replaceAll('\u0060', '');

/** The parts of a declaration that documentation reads (every entry of DAEMON_SETTINGS has them). */
type Documented = Pick<DaemonSetting<unknown, unknown>, 'help' | 'defaultDocs'> & {
  readonly env: { readonly names: readonly string[]; readonly docs?: string };
  readonly flag?: SettingFlag;
};

const declarationOf = (key: DaemonSettingKey): Documented => DAEMON_SETTINGS[key];

function envDocs(declared: Documented): string {
  return declared.env.docs ?? declared.env.names.map((name) => `\`${name}\``).join(', else ');
}

function spelled(flag: SettingFlag): string {
  const long = `${flagOption(flag)} ${flag.argument}`;
  return flag.short !== undefined ? `${flag.short}, ${long}` : long;
}

/** The flags every daemon command takes, in declaration order, the settings file first. */
export function daemonFlagOptions(): DaemonFlagOption[] {
  const config = CONFIG_FILE_SETTING;
  const options: DaemonFlagOption[] = [
    {
      flags: spelled(config.flag),
      description: `${config.help} (env ${config.env}, default ${plain(config.defaultDocs)})`,
    },
  ];
  for (const key of DAEMON_SETTING_KEYS) {
    const declared = declarationOf(key);
    if (declared.flag === undefined) continue;
    options.push({
      flags: spelled(declared.flag),
      description: `${plain(declared.help)} (env ${plain(envDocs(declared))}, default ${plain(declared.defaultDocs)})`,
      ...(declared.flag.choices !== undefined ? { choices: declared.flag.choices } : {}),
    });
  }
  return options;
}

/** The description of a dogwatch.yaml option, which problems about it quote in their hint. */
export function fileOptionDescription(key: DaemonSettingKey): string {
  const declared = declarationOf(key);
  const help = plain(declared.help);
  const flag = declared.flag !== undefined ? `; flag ${flagOption(declared.flag)}` : '';
  return (
    `${help.charAt(0).toUpperCase()}${help.slice(1)}; default ${plain(declared.defaultDocs)}. ` +
    `Env: ${plain(envDocs(declared))}${flag}.`
  );
}

/** The README's table of daemon settings (Markdown), the settings file first. */
export function daemonSettingsMarkdownTable(): string {
  const config = CONFIG_FILE_SETTING;
  const header = ['setting (dogwatch.yaml)', 'what it is', 'environment', 'flag', 'default'];
  const rows = [
    ['—', config.help, `\`${config.env}\``, `\`${flagOption(config.flag)}\``, config.defaultDocs],
    ...DAEMON_SETTING_KEYS.map((key) => {
      const declared = declarationOf(key);
      const flag = declared.flag !== undefined ? `\`${flagOption(declared.flag)}\`` : '';
      return [`\`${key}\``, declared.help, envDocs(declared), flag, declared.defaultDocs];
    }),
  ];
  const line = (cells: readonly string[]) =>
    `|${cells.map((cell) => (cell === '' ? ' ' : ` ${cell} `)).join('|')}|`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}
