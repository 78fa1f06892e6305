#!/usr/bin/env node
/**
 * The `dogwatch` executable, and the composition root: the one module that binds the core to the
 * integrations. It hands the core's command line (core/cli/run-cli.ts) the built-in checks, as a loader
 * so that `--version`, `health` and `status` never load them or the AWS SDK, and adds the `demo` command,
 * which composes the daemon with the AWS emulator. The core never imports checks/, emulator/, bench/
 * or test/; tests, the bench and the demo bind the checks they want the same way.
 */
import type { ContainerModule } from 'inversify';
import { runCli } from '../core/cli/run-cli.js';

const loadChecks = async (): Promise<ContainerModule> =>
  (await import('../checks/index.js')).builtinChecksModule;

await runCli(process.argv, {
  loadChecks,
  addCommands: async (program) => (await import('./demo-command.js')).addDemoCommand(program, loadChecks),
});
