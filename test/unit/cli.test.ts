import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { packageRoot } from '../../core/package-root.js';

const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));
const run = promisify(execFile);
const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
  version: string;
};

for (const command of [[], ['run'], ['check'], ['configcheck'], ['status'], ['health'], ['demo']]) {
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

test('dogwatch health follows DOGWATCH_STATUS_ADDR: 200 → exit 0, 503 or no answer → exit 1, off → exit 0', async () => {
  const { createServer } = await import('node:http');
  let status = 200;
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const health = (addr: string) =>
    run(process.execPath, [CLI, 'health'], { env: { ...process.env, DOGWATCH_STATUS_ADDR: addr } });
  try {
    assert.match((await health(`127.0.0.1:${port}`)).stdout, /^200 /);
    status = 503;
    await assert.rejects(health(`127.0.0.1:${port}`), (e: { code?: number }) => e.code === 1);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  await assert.rejects(health(`127.0.0.1:${port}`), (e: { code?: number; stdout?: string }) => {
    assert.match(e.stdout ?? '', /unhealthy: no answer/);
    return e.code === 1;
  });
  assert.match((await health('off')).stdout, /status listener is off/);
});

test('dogwatch health reads status_addr as the daemon does: flag, then env, then dogwatch.yaml', async () => {
  const { createServer } = await import('node:http');
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const server = createServer((_request, response) => response.end('{"status":"ok"}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const dir = await mkdtemp(join(tmpdir(), 'dogwatch-health-'));
  const env = { ...process.env };
  delete env.DOGWATCH_STATUS_ADDR;
  delete env.DOGWATCH_CONFIG;
  try {
    await writeFile(join(dir, 'dogwatch.yaml'), `status_addr: 127.0.0.1:${port}\n`);
    assert.match((await run(process.execPath, [CLI, 'health'], { cwd: dir, env })).stdout, /^200 /);
    // The flag wins over the file.
    await assert.rejects(
      run(process.execPath, [CLI, 'health', '--status-addr', '127.0.0.1:1'], { cwd: dir, env }),
      (e: { code?: number; stdout?: string }) => e.code === 1 && /127\.0\.0\.1:1\//.test(e.stdout ?? ''),
    );
    await assert.rejects(
      run(process.execPath, [CLI, 'health'], { cwd: dir, env: { ...env, DOGWATCH_STATUS_ADDR: 'nope:x' } }),
      (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr ?? '', /DOGWATCH_STATUS_ADDR: expected host:port.*found "nope:x"/);
        return true;
      },
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});
