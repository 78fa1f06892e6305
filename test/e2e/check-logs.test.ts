/**
 * `dogwatch check <check> --json` with collect_logs: every log record it would send is printed as a
 * `{"kind":"log", …}` line beside the metric lines, with its ddsource, service, timestamp, message and
 * attributes; nothing is saved (a second check prints the same records again) and no credential shows.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { AwsEmulator, BARE_WORLD } from '../../emulator/index.js';
import { TempWorkspace } from '../support/daemon-harness.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));

describe('dogwatch check --json with collect_logs', () => {
  test('prints kind:log records beside the metric lines, and saves nothing', async () => {
    const emulator = new AwsEmulator({
      world: { ...BARE_WORLD, functions: 2, createdAtMs: Date.now() - 3600_000 },
    });
    const endpoint = await emulator.start();
    const ws = new TempWorkspace();
    ws.writeConf(
      'amazon_lambda',
      `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1]\n    collect_logs: true\n    lookback: 600\n` +
        '    metrics: {include: ["aws.lambda.invocations"]}\n',
    );
    const env = {
      ...process.env,
      DOGWATCH_CONFD: ws.confd,
      DOGWATCH_STATE_DIR: ws.stateDir,
      DOGWATCH_LOG_LEVEL: 'error',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'canary-secret-key-for-check',
      AWS_REGION: 'us-east-1',
    };
    try {
      const once = async () => {
        const { stdout } = await run(process.execPath, [CLI, 'check', 'amazon_lambda', '--json'], {
          env,
          maxBuffer: 64 * 1024 * 1024,
        });
        return stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      };
      const first = await once();
      const logs = first.filter((l) => l.kind === 'log');
      assert.ok(
        first.some((l) => l.kind === 'metric'),
        'metric lines too',
      );
      assert.ok(logs.length > 100, `log records printed (${logs.length})`);
      for (const log of logs) {
        assert.equal(log.ddsource, 'lambda');
        assert.equal(typeof log.service, 'string');
        assert.equal(typeof log.timestamp, 'number');
        assert.equal(typeof log.message, 'string');
        const attributes = log.attributes as {
          aws?: { awslogs?: { logGroup?: string } };
          lambda?: { arn?: string };
        };
        assert.match(attributes.aws?.awslogs?.logGroup ?? '', /^\/(aws|custom)\/lambda\//);
        assert.match(attributes.lambda?.arn ?? '', /^arn:aws:lambda:us-east-1:\d{12}:function:/);
        assert.match(String(log.ddtags), /functionname:/);
      }
      const again = (await once()).filter((l) => l.kind === 'log');
      const ids = (records: Record<string, unknown>[]) =>
        new Set(records.map((r) => (r.attributes as { id: string }).id));
      // The window slid by the seconds between the two checks; everything else is printed again.
      const againIds = ids(again);
      const repeated = [...ids(logs)].filter((id) => againIds.has(id)).length;
      assert.ok(
        repeated > 0.9 * logs.length,
        `nothing was saved: ${repeated} of ${logs.length} again (${again.length} the second time)`,
      );
      assert.ok(!existsSync(join(ws.stateDir, 'cursors.json')), 'no cursor snapshot written');
      assert.ok(!JSON.stringify(first).includes('canary-secret-key-for-check'));
    } finally {
      await emulator.stop();
      ws.cleanup();
    }
  });
});
