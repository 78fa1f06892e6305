/**
 * `log_processing_rules` end to end: `dogwatch check amazon_lambda --json` against the emulator, whose
 * clock is frozen so that the window the check reads is known exactly (every event ingested by then,
 * from before the world began). Held against the emulator's own events: the excluded lines are absent,
 * every other event is printed once, and what a mask rule hides is nowhere in the output (neither in
 * the message nor in the attributes read from it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { AwsEmulator, BARE_WORLD } from '../../emulator/index.js';
import { TempWorkspace } from '../support/daemon-harness.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../app/main.js', import.meta.url));
const MINUTE = 60_000;
const REQUEST_ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

interface Printed {
  kind: string;
  message: string;
  attributes: {
    id: string;
    aws: { awslogs: { logGroup: string; owner: string } };
    lambda?: { request_id?: string };
  };
}

describe('dogwatch check --json with log_processing_rules', () => {
  test('excluded lines are absent, masked values masked, every other event printed once', async () => {
    const now = Date.UTC(2026, 10, 20, 12, 0, 30);
    const clock = new ManualClock(now);
    const emulator = new AwsEmulator({
      world: { ...BARE_WORLD, functions: 3, createdAtMs: now - 20 * MINUTE },
      clock,
      publicationDelay: { baseSeconds: 0, jitterSeconds: 0 },
    });
    const endpoint = await emulator.start();
    const ws = new TempWorkspace();
    ws.writeConf(
      'amazon_lambda',
      `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1]\n    collect_logs: true\n    lookback: 7200\n` +
        '    metrics: {include: ["aws.lambda.invocations"]}\n' +
        '    log_processing_rules:\n' +
        '      - {type: exclude_at_match, name: no_start_end, pattern: "^(START|END) RequestId"}\n' +
        '      - {type: mask_sequences, name: report_ids, pattern: "^REPORT RequestId: \\\\S+", replace_placeholder: "REPORT RequestId: [masked]"}\n',
    );
    const env = {
      ...process.env,
      DOGWATCH_CONFD: ws.confd,
      DOGWATCH_STATE_DIR: ws.stateDir,
      DOGWATCH_LOG_LEVEL: 'error',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-secret',
      AWS_REGION: 'us-east-1',
    };
    try {
      const { stdout } = await run(process.execPath, [CLI, 'check', 'amazon_lambda', '--json'], {
        env,
        maxBuffer: 64 * 1024 * 1024,
      });
      const logs = stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Printed)
        .filter((l) => l.kind === 'log');
      const account = logs[0]!.attributes.aws.awslogs.owner;
      // The truth: every event the emulator holds, all ingested by its frozen now.
      const truth = emulator.logs.groupNames(account, 'us-east-1').flatMap((group) =>
        emulator.logs.events(account, 'us-east-1', group, {
          startMs: 0,
          endMs: now + MINUTE,
          asOfMs: now,
        })!,
      );
      const excluded = truth.filter((event) => /^(START|END) RequestId/.test(event.message));
      const reports = truth.filter((event) => event.message.startsWith('REPORT RequestId: '));
      assert.ok(
        excluded.length > 100 && reports.length > 50,
        `${excluded.length} START/END, ${reports.length} REPORT`,
      );

      const printed = new Map(logs.map((log) => [log.attributes.id, log]));
      assert.equal(printed.size, logs.length, 'no event printed twice');
      for (const event of excluded) assert.ok(!printed.has(event.eventId), `excluded: ${event.message}`);
      assert.equal(logs.length, truth.length - excluded.length, 'every other event, exactly');
      for (const event of reports) {
        const log = printed.get(event.eventId)!;
        const id = REQUEST_ID.exec(event.message)![0];
        assert.match(log.message, /^REPORT RequestId: \[masked\]\tDuration: /);
        assert.ok(!JSON.stringify(log).includes(id), 'the masked ID is nowhere in the record');
        assert.equal(log.attributes.lambda?.request_id, undefined);
      }
      // Lines no rule touches are printed as they are.
      for (const event of truth.filter((e) => !excluded.includes(e) && !reports.includes(e)))
        assert.equal(printed.get(event.eventId)?.message, event.message);
      console.log(
        `rules e2e: ${truth.length} events, ${excluded.length} excluded, ${reports.length} masked, ${logs.length} printed`,
      );
    } finally {
      await emulator.stop();
      ws.cleanup();
    }
  });
});
