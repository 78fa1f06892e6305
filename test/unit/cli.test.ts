import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { packageRoot } from '../../core/package-root.js';

const CLI = fileURLToPath(new URL('../../core/cli/main.js', import.meta.url));
const run = promisify(execFile);
const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
  version: string;
};

for (const command of [[], ['run'], ['check'], ['configcheck'], ['status'], ['demo']]) {
  test(`dogwatch ${command.join(' ')} --help and --version`, async () => {
    const help = await run(process.execPath, [CLI, ...command, '--help']);
    assert.match(help.stdout, /^Usage: dogwatch/);
    assert.match(help.stdout, /--version/);
    const printed = await run(process.execPath, [CLI, ...command, '--version']);
    assert.equal(printed.stdout.trim(), version);
  });
}

test('an unknown command fails with the list of commands', async () => {
  await assert.rejects(run(process.execPath, [CLI, 'chekc']), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr ?? '', /unknown command 'chekc'/);
    return true;
  });
});
