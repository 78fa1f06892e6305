/**
 * `dogwatch demo`, added to the core's command line by the composition root. Light on purpose: the demo
 * itself (the daemon, the emulator) is imported only when the command runs.
 */
import type { Command } from 'commander';
import { integer } from '../core/cli/program.js';
import type { CheckModuleLoader } from '../core/container.js';
import { VERSION } from '../core/version.js';

export function addDemoCommand(program: Command, loadChecks: CheckModuleLoader): void {
  program
    .command('demo')
    .version(VERSION, '-V, --version')
    .description('run the built-in checks against the AWS emulator and a local DogStatsD listener')
    .option('--seconds <n>', 'how long to run (real seconds)', integer, 20)
    .option('--speed <n>', 'virtual seconds per real second', integer, 60)
    .action(async (flags: { seconds: number; speed: number }) => {
      const { runDemo } = await import('./demo.js');
      await runDemo(flags, loadChecks);
    });
}
