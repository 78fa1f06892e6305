/**
 * The `dogwatch` command line, as the composition root (app/main.ts) runs it. `--version` and a bare
 * `health` (the container HEALTHCHECK, run every few seconds) are answered without loading the
 * command-line parser; every other command goes through program.ts, which loads per command only what
 * that command needs (the checks only for the commands that run or describe them).
 */
import { holdStartupSignals } from '../runtime/startup-signals.js';
import { VERSION } from '../version.js';
import type { CliComposition } from './program.js';

/** Runs the command `argv` (process.argv) names; a failure is one line on stderr and exit code 1. */
export async function runCli(argv: readonly string[], composition: CliComposition): Promise<void> {
  const args = argv.slice(2);
  // The daemon's options are the `run` command's own, so the command is the first argument.
  if (args[0] === 'run') holdStartupSignals();
  try {
    if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
      process.stdout.write(`${VERSION}\n`);
    } else if (args.length === 1 && args[0] === 'health') {
      await (await import('./probe-commands.js')).healthCommand({});
    } else {
      const { buildProgram } = await import('./program.js');
      const program = buildProgram(composition);
      await composition.addCommands?.(program);
      await program.parseAsync(argv);
    }
  } catch (error) {
    process.stderr.write(`dogwatch: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
