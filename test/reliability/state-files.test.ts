/**
 * Bad state files at start: corrupt, truncated, unreadable, a torn journal, a state directory that
 * cannot be written. Each one gets a clear warning (or, when nothing could be recorded, a clear error
 * before anything is sent) and a safe start: the run succeeds, collection goes on, the lookback is
 * bounded, nothing is sent twice after the restart, and the next restart is clean again.
 */
import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { useEmulatorCredentials } from '../support/collection-harness.js';
import {
  bareWorld,
  type EmulatedCollection,
  MINUTE,
  rekognitionTruth,
  startEmulatedCollection,
  T0,
} from '../support/emulated-collection.js';
import { diffPoints, type ParsedMetricLine } from '../support/world-truth.js';

const totals = { cases: 0, crashes: 0, duplicated: 0 };
before(() => useEmulatorCredentials());
after(() =>
  console.log(
    `state files: ${totals.cases} bad-state cases started safely, ${totals.crashes} crashes, ` +
      `${totals.duplicated} points sent twice after the restart`,
  ),
);

/** The snapshot and the newest journal in the state directory. */
function stateFiles(stateDir: string): { snapshot: string; journal: string } {
  const names = readdirSync(stateDir);
  assert.ok(names.includes('cursors.json'), `a snapshot in ${stateDir}: ${names.join(', ')}`);
  const journals = names
    .filter((f) => /^cursors-\d+\.journal$/.test(f))
    .sort((a, b) => parseInt(a.slice(8)) - parseInt(b.slice(8)));
  assert.ok(journals.length > 0, `a journal in ${stateDir}: ${names.join(', ')}`);
  return {
    snapshot: join(stateDir, 'cursors.json'),
    journal: join(stateDir, journals[journals.length - 1]!),
  };
}

/**
 * Runs long enough to have a snapshot (written by the clean restart after run 3) and a journal after
 * it, then the process dies: nothing more is saved.
 */
async function collectThenStop(s: EmulatedCollection): Promise<void> {
  for (let run = 0; run < 6; run++) {
    if (run === 3) await s.harness.restart();
    const [outcome] = await s.harness.runAll();
    assert.ok(outcome!.ok, outcome!.error);
    s.clock.advance(MINUTE);
  }
  s.harness.abandon();
  await s.settle();
}

function withCollection(body: (s: EmulatedCollection) => Promise<void>): () => Promise<void> {
  return async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ rekognitionOperations: 3 }),
      confs: { amazon_rekognition: '    regions: [us-east-1]\n' },
    });
    try {
      await body(s);
      totals.cases++;
    } catch (error) {
      totals.crashes++;
      throw error;
    } finally {
      await s.close();
    }
  };
}

const key = (l: ParsedMetricLine) => `${l.metric}|${l.tags.join(',')}|${l.timestamp}`;

interface BadStateCase {
  readonly name: string;
  readonly spoil: (files: { snapshot: string; journal: string }) => void;
  /** What the warning says, besides the file's path. */
  readonly warning: RegExp;
  /** The file that was set aside as `<file>.bad`. */
  readonly setAside: 'snapshot' | 'journal';
  /**
   * How far back the first run after the restart may reach (see backToTheSnapshot).
   */
  readonly oldestAllowed: () => number;
}

/**
 * A lost snapshot: the journal written after it (since the clean restart at T0 + 3 minutes) brings the
 * cursors back. A lost journal: back to that snapshot. Either way no further back than the snapshot's
 * time, less its window delay, publication delay and a period of slack.
 */
const backToTheSnapshot = () => T0 + 3 * MINUTE - 4 * MINUTE;

const CASES: BadStateCase[] = [
  {
    name: 'a corrupt snapshot (binary junk)',
    spoil: ({ snapshot }) => writeFileSync(snapshot, Buffer.from([0, 159, 146, 150, 255, 10, 123])),
    warning: /is corrupt/,
    setAside: 'snapshot',
    oldestAllowed: backToTheSnapshot,
  },
  {
    name: 'a truncated snapshot (cut in the middle of a line)',
    spoil: ({ snapshot }) => {
      const text = readFileSync(snapshot, 'utf8');
      writeFileSync(snapshot, text.slice(0, Math.floor(text.length * 0.6)));
    },
    warning: /is corrupt/,
    setAside: 'snapshot',
    oldestAllowed: backToTheSnapshot,
  },
  {
    name: 'an unreadable snapshot (a directory where the file should be)',
    spoil: ({ snapshot }) => {
      rmSync(snapshot);
      mkdirSync(snapshot);
    },
    warning: /is unreadable \(EISDIR/,
    setAside: 'snapshot',
    oldestAllowed: backToTheSnapshot,
  },
  {
    name: 'an unreadable journal (a directory where the file should be)',
    spoil: ({ journal }) => {
      rmSync(journal);
      mkdirSync(journal);
    },
    warning: /is unreadable \(EISDIR/,
    setAside: 'journal',
    oldestAllowed: backToTheSnapshot,
  },
];

describe('bad state files at start: a clear warning and a safe start, never a crash loop', () => {
  for (const c of CASES) {
    test(
      c.name,
      withCollection(async (s) => {
        await collectThenStop(s);
        const files = stateFiles(s.workspace.stateDir);
        const sentBefore = s.lines().length;
        c.spoil(files);
        // Down for 3 minutes, then back with the bad file.
        s.clock.advance(3 * MINUTE);
        await s.harness.start();
        for (let run = 0; run < 4; run++) {
          const [outcome] = await s.harness.runAll();
          assert.ok(outcome!.ok, `run ${run} after the restart: ${outcome!.error}`);
          if (run === 0) {
            const warnings = s.harness.status.snapshot({ version: 't', sink: {} }).instances[0]!.warnings;
            const bad = c.setAside === 'snapshot' ? files.snapshot : files.journal;
            const warning = warnings.find((w) => w.includes(bad));
            assert.ok(warning, `a warning names ${bad}: ${JSON.stringify(warnings)}`);
            assert.match(warning, c.warning);
            assert.match(warning, new RegExp(`moved to ${bad.replace(/[.]/g, '\\.')}\\.bad`));
            assert.ok(existsSync(`${bad}.bad`), 'the bad file is kept for a post-mortem');
          }
          s.clock.advance(MINUTE);
        }
        await s.settle();
        const after = s
          .lines()
          .slice(sentBefore)
          .filter((l) => l.metric.startsWith('aws.'));
        assert.ok(after.length > 0, 'collection goes on');
        // Bounded lookback: nothing older than the first-run window (one period) before the restart,
        // allowing for the publication delay (up to 2 minutes).
        const oldest = Math.min(...after.map((l) => (l.timestamp ?? 0) * 1000));
        assert.ok(
          oldest >= c.oldestAllowed(),
          `oldest point after the restart ${new Date(oldest).toISOString()} is within the lookback`,
        );
        const seen = new Set<string>();
        const twice = after.filter((l) => seen.size === seen.add(key(l)).size);
        totals.duplicated += twice.length;
        assert.deepEqual(twice, [], 'no point sent twice after the restart');

        // The state is healthy again: the next restart loads it without a warning.
        await s.harness.restart();
        const [outcome] = await s.harness.runAll();
        assert.ok(outcome!.ok, outcome!.error);
        const status = s.harness.status.snapshot({ version: 't', sink: {} }).instances[0]!;
        assert.deepEqual(
          status.warnings.filter((w) => w.includes('state file')),
          [],
        );
      }),
    );
  }

  test(
    'a torn journal line (killed while appending): ignored, every point still exactly once',
    withCollection(async (s) => {
      await collectThenStop(s);
      appendFileSync(stateFiles(s.workspace.stateDir).journal, '{"us-east-1|AWS/Rekognition|');
      await s.harness.start();
      // Runs at T0 + 6 … 10 minutes: every period ending by T0 + 8 minutes is published by then (≤ 2 min delay).
      for (let run = 0; run < 5; run++) {
        const [outcome] = await s.harness.runAll();
        assert.ok(outcome!.ok, outcome!.error);
        s.clock.advance(MINUTE);
      }
      await s.settle();
      const expected = rekognitionTruth(s.emulator.world, T0 - 3 * MINUTE, T0 + 8 * MINUTE);
      assert.deepEqual(diffPoints(expected, s.lines(), ['operation', 'region']), {
        missing: [],
        unexpected: [],
        duplicated: [],
        wrongValue: [],
      });
    }),
  );

  test(
    'a state directory that cannot be written: the run fails before sending, says how to fix it, and recovers',
    withCollection(async (s) => {
      await collectThenStop(s);
      const { stateDir } = s.workspace;
      rmSync(stateDir, { recursive: true });
      writeFileSync(stateDir, 'not a directory');
      await s.harness.start();
      const sentBefore = s.listener.lines().length;
      const [failed] = await s.harness.runAll();
      assert.equal(failed!.ok, false);
      assert.match(failed!.error!, /cannot write the state directory/);
      assert.ok(failed!.error!.includes(stateDir), 'names the directory');
      assert.match(failed!.error!, /state_dir .*DOGWATCH_STATE_DIR/, 'says how to fix it');
      await s.settle();
      const metricLines = s.listener
        .lines()
        .slice(sentBefore)
        .filter((l) => l.startsWith('aws.'));
      assert.deepEqual(metricLines, [], 'nothing sent that could not be recorded');
      // Fixed by the operator: the next run collects again, without a restart.
      rmSync(stateDir);
      s.clock.advance(MINUTE);
      const [recovered] = await s.harness.runAll();
      assert.ok(recovered!.ok, recovered!.error);
      await s.settle();
      assert.ok(
        s.listener
          .lines()
          .slice(sentBefore)
          .some((l) => l.startsWith('aws.rekognition.')),
        'collecting again',
      );
    }),
  );
});
