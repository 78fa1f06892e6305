#!/usr/bin/env node
/**
 * The `dogwatch` executable. `--version` and a bare `health` (the container HEALTHCHECK, run every few
 * seconds) are answered without loading the command-line parser; every other command goes through
 * program.ts, which loads per command only what that command needs.
 */
import { VERSION } from '../version.js';

const args = process.argv.slice(2);
try {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
  } else if (args.length === 1 && args[0] === 'health') {
    await (await import('./probe-commands.js')).healthCommand({});
  } else {
    const { buildProgram } = await import('./program.js');
    await buildProgram().parseAsync(process.argv);
  }
} catch (error) {
  process.stderr.write(`dogwatch: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
