/**
 * The `dogwatch` command line. Each command imports what it needs when it runs, so `health` (the
 * container probe) and `status` never load the AWS SDK, the checks or the config schemas.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CheckModuleLoader } from '../container.js';
import { daemonFlagOptions } from '../config/daemon-settings-docs.js';
import { VERSION } from '../version.js';
import type { AssetFlags, InstallFlags } from './assets-command.js';
import type { CommonOptions } from './daemon-commands.js';

/** What the composition root (app/main.ts) hands the command line. */
export interface CliComposition {
  /** The built-in checks; called only by the commands that run or describe checks. */
  readonly loadChecks: CheckModuleLoader;
  /** Adds the composition root's own commands (`demo`) to the program, after the core's. */
  readonly addCommands?: (program: Command) => void | Promise<void>;
}

type CheckFlags = CommonOptions & { instance?: number; json?: boolean; emit?: boolean };

/** Options every command shares: the daemon settings that have a flag (see daemon-settings-table.ts). */
function withCommonOptions(command: Command): Command {
  command.version(VERSION, '-V, --version');
  for (const flag of daemonFlagOptions()) {
    const option = new Option(flag.flags, flag.description);
    command.addOption(flag.choices !== undefined ? option.choices(flag.choices) : option);
  }
  return command;
}

/** A commander argument parser for a whole number ≥ 0. */
export const integer = (text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
};

export function buildProgram(composition: CliComposition): Command {
  const { loadChecks } = composition;
  const program = new Command('dogwatch')
    .description('Collects AWS CloudWatch metrics and sends them to a local Datadog Agent over DogStatsD')
    .version(VERSION, '-V, --version')
    .showHelpAfterError();

  withCommonOptions(
    program.command('run').description('run the daemon (every instance of conf.d on its schedule)'),
  ).action(async (flags: CommonOptions) =>
    (await import('./daemon-commands.js')).runDaemon(flags, loadChecks),
  );

  withCommonOptions(
    program
      .command('check <name>')
      .description('run one check once and print what would be sent (nothing is persisted unless --emit)'),
  )
    .option('--instance <n>', 'only the nth instance of the check (0-based)', integer)
    .option('--json', 'one JSON object per line')
    .option('--emit', 'also send to DogStatsD and persist progress, like a daemon run')
    .action(async (name: string, flags: CheckFlags) =>
      (await import('./daemon-commands.js')).checkCommand(name, flags, loadChecks),
    );

  withCommonOptions(
    program
      .command('configcheck')
      .description('validate conf.d and print the resolved instances (secrets masked)'),
  )
    .option('--json', 'print JSON')
    .action(async (flags: CommonOptions & { json?: boolean }) =>
      (await import('./daemon-commands.js')).configcheckCommand(flags, loadChecks),
    );

  withCommonOptions(program.command('status').description("print the running daemon's status"))
    .option('--json', 'print the raw JSON')
    .action(async (flags: CommonOptions & { json?: boolean }) =>
      (await import('./probe-commands.js')).statusCommand(flags),
    );

  withCommonOptions(
    program.command('health').description("probe the running daemon's /health (exit 0 or 1)"),
  ).action(async (flags: CommonOptions) => (await import('./probe-commands.js')).healthCommand(flags));

  addAssetsCommand(program, loadChecks);
  return program;
}

/** `dogwatch assets list|print|install` (the Datadog client is loaded only by `install`). */
function addAssetsCommand(program: Command, loadChecks: CheckModuleLoader): void {
  const assets = program
    .command('assets')
    .version(VERSION, '-V, --version')
    .description('Datadog dashboards and recommended monitors for the checks and for dogwatch itself');
  const namespaceHelp =
    'for metrics sent with this instance `namespace:` ("" for none); default: the namespaces of the conf.d instances';
  const actions = () => import('./assets-command.js');
  withCommonOptions(assets.command('list').description('list the assets, one per line: key, kind, title'))
    .option('--namespace <prefix>', namespaceHelp)
    .action(async (flags: AssetFlags) => (await actions()).listAssets(loadChecks, flags));
  withCommonOptions(
    assets
      .command('print [name]')
      .description('print an asset (or those a prefix names, or all) as Datadog API JSON on stdout'),
  )
    .option('--namespace <prefix>', namespaceHelp)
    .action(async (name: string | undefined, flags: AssetFlags) =>
      (await actions()).printAsset(loadChecks, name, flags),
    );
  withCommonOptions(
    assets
      .command('install [names...]')
      .description(
        'create or update the assets in a Datadog organisation (DD_API_KEY, DD_APP_KEY, DD_SITE); ' +
          'only what dogwatch created before is updated',
      ),
  )
    .option('--namespace <prefix>', namespaceHelp)
    .option('--dry-run', 'read the organisation and say what would be created or updated; write nothing')
    .option(
      '--api-url <url>',
      'the Datadog API address instead of https://api.<DD_SITE> (a proxy, a test server)',
    )
    .action(async (names: string[], flags: InstallFlags) =>
      (await actions()).installAssetsCommand(loadChecks, names, flags),
    );
}
