import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ManualClock } from '../../../core/clock.js';
import { createSilentLogger } from '../../../core/log/logger.js';
import { cursorId, legacyQueryId } from '../../../core/state/cursor-id.js';
import { CursorStore, CursorUpdates, StateWriteError } from '../../../core/state/cursor-store.js';
import { diskFullWhileFlagged, nodeStateFiles } from '../../../core/state/state-files.js';
import { afterSettlement, settleTogether } from '../../../core/sink/settlement.js';

const DAY = 86_400_000;
const A = cursorId([
  'metric',
  'amazon_lambda',
  '',
  '123456789012',
  'us-east-1',
  'AWS/Lambda',
  'Invocations|FunctionName=f',
  'Sum',
  60,
]);
const B = cursorId([
  'metric',
  'amazon_lambda',
  '',
  '123456789012',
  'us-east-1',
  'AWS/Lambda',
  'Duration|FunctionName=f',
  'p99',
  60,
]);

function updates(...entries: [string, number, (number | string)[]][]): CursorUpdates {
  const u = new CursorUpdates();
  for (const [id, w, seen] of entries) u.add(id, w, seen);
  return u;
}

describe('CursorStore', () => {
  let dir: string;
  let clock: ManualClock;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'dogwatch-cursors-')), 'state');
    clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  const open = async (files = nodeStateFiles): Promise<CursorStore> => {
    const store = new CursorStore({ stateDir: dir, logger: createSilentLogger(), clock, files });
    await store.load();
    return store;
  };

  test('ids: short, stable, and the format-3 ids of older state files are pinned', () => {
    assert.match(A, /^[A-Za-z0-9_-]{16}$/);
    assert.notEqual(A, B);
    // Written by every version before cursors were shared: migration must keep finding them.
    assert.equal(
      legacyQueryId('us-east-1', 'Invocations|FunctionName=orders-handler', 'Sum', 60),
      'us-east-1|dWIbsUWm2A3pr_Ip',
    );
  });

  test('cursors survive a restart through the journal and through a snapshot; files are private', async () => {
    let store = await open();
    await store.prepareToWrite();
    store.record(updates([A, 120_000, []], [B, 60_000, [120_000, 180_000]]));
    store = await open();
    assert.deepEqual({ ...store.get(A)! }, { id: A, w: 120_000, seen: [], at: clock.now() });
    assert.deepEqual(store.get(B)!.seen, [120_000, 180_000]);
    await store.prepareToWrite();
    await store.compact();
    store.record(updates([A, 180_000, ['evt-1']]));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const name of readdirSync(dir)) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
    store = await open();
    assert.deepEqual(store.get(A)!.seen, ['evt-1']);
    assert.equal(store.get(B)!.w, 60_000);
  });

  test('the records of one settlement, from every source, are one journal record written at its end', async () => {
    const crashes: string[] = [];
    const store = new CursorStore({
      stateDir: dir,
      logger: createSilentLogger(),
      clock,
      crashPoint: (name) => crashes.push(name),
    });
    await store.load();
    await store.prepareToWrite();
    const journal = (): string[] =>
      readFileSync(join(dir, 'cursors-0.journal'), 'utf8').replace(/\0+$/, '').split('\n').filter(Boolean);
    const before = journal().length;
    settleTogether(() => {
      // Two sources settled by one datagram: one records at once, the other defers to the end.
      store.record(updates([A, 60_000, [120_000]]));
      afterSettlement(() => {
        store.record(updates([B, 60_000, []]));
        afterSettlement(() => crashes.push(`after: ${journal().length - before} record(s)`), 'after');
      });
      store.record(updates([A, 180_000, []]));
      assert.equal(journal().length, before, 'nothing is written before the settlement ends');
    });
    assert.deepEqual(crashes, ['after-journal', 'after: 1 record(s)']);
    assert.equal(journal().length, before + 1);
    assert.match(journal().at(-1)!, new RegExp(`"${A}":\\[180000\\],"${B}":\\[60000\\]`));
    const reopened = await open();
    assert.equal(reopened.get(A)!.w, 180_000);
    assert.equal(reopened.get(B)!.w, 60_000);
  });

  test('a settlement record reads back whatever its ids are (quotes, backslashes, control characters)', async () => {
    const store = await open();
    await store.prepareToWrite();
    const odd = ['legacy "quoted" id', 'back\\slash', 'tab\there', 'é|ü', 'lone \ud800', A];
    settleTogether(() => {
      for (const [i, id] of odd.entries()) store.record(updates([id, 60_000 * (i + 1), i % 2 ? [] : [1]]));
    });
    const reopened = await open();
    for (const [i, id] of odd.entries()) {
      assert.equal(reopened.get(id)?.w, 60_000 * (i + 1), id);
      assert.deepEqual(reopened.get(id)?.seen, i % 2 ? [] : [1]);
    }
  });

  test('a store that is only loaded (dogwatch check without --emit) writes nothing', async () => {
    await open();
    assert.equal(existsSync(dir), false);
  });

  test('a full disk mid-append: no partial record, nothing sent twice, the error names the file and the fix', async () => {
    const flag = join(dir, '..', 'disk-full');
    const files = diskFullWhileFlagged(nodeStateFiles, flag);
    let store = await open(files);
    await store.prepareToWrite();
    store.record(updates([A, 60_000, []]));
    writeFileSync(flag, '');
    assert.throws(
      () => store.record(updates([A, 120_000, []], [B, 120_000, []])),
      (error: Error) => {
        assert.ok(error instanceof StateWriteError);
        assert.match(error.message, /cursors-0\.journal \(ENOSPC/);
        assert.match(error.message, /Fix: free space on the volume that holds/);
        return true;
      },
    );
    assert.equal(store.writable, false, 'sources stop sending');
    assert.equal(store.get(A)!.w, 120_000, 'what was sent stays known in memory');
    // Still full: the next run cannot start writing, and says why.
    await assert.rejects(store.prepareToWrite(), /ENOSPC/);
    rmSync(flag);
    await store.prepareToWrite();
    assert.equal(store.writable, true);
    store.record(updates([B, 180_000, []]));
    // A crash now: everything, including what the full disk could not take, is on disk and whole.
    store = await open();
    assert.equal(store.get(A)!.w, 120_000);
    assert.equal(store.get(B)!.w, 180_000);
  });

  test('space is reserved before a batch is sent: a full disk refuses the batch, not its record', async () => {
    const flag = join(dir, '..', 'disk-full');
    const store = await open(diskFullWhileFlagged(nodeStateFiles, flag));
    await store.prepareToWrite();
    store.reserve(1000);
    writeFileSync(flag, '');
    // Within the reservation, records still land: the zeros are already on the disk.
    store.record(updates([A, 60_000, []]));
    assert.throws(() => store.reserve(64 << 20), /ENOSPC.*Fix: free space/);
    assert.equal(store.writable, true, 'nothing was sent that could not be recorded');
    rmSync(flag);
    const reopened = await open();
    assert.equal(reopened.get(A)!.w, 60_000, 'reading stops at the reserved zeros');
  });

  test('a torn record at the end of the journal (killed mid-write) is cut off before the next append', async () => {
    let store = await open();
    await store.prepareToWrite();
    store.record(updates([A, 60_000, []]));
    const journal = join(dir, 'cursors-0.journal');
    writeFileSync(journal, readFileSync(journal, 'utf8') + '0123abcd {"t":1,"c":{"x":[1');
    store = await open();
    await store.prepareToWrite();
    store.record(updates([B, 120_000, []]));
    store = await open();
    assert.equal(store.get(A)!.w, 60_000);
    assert.equal(store.get(B)!.w, 120_000, 'the record after the torn one is read back');
    assert.equal(readFileSync(journal, 'utf8').split('\n').filter(Boolean).length, 2);
  });

  test('records made while a snapshot is being written are kept (the journal rotates first)', async () => {
    const store = await open();
    await store.prepareToWrite();
    const many = new CursorUpdates();
    for (let i = 0; i < 20_000; i++) many.add(cursorId(['metric', i]), 60_000, []);
    store.record(many);
    const compaction = store.compact();
    store.record(updates([A, 240_000, []]));
    await compaction;
    const reopened = await open();
    assert.equal(reopened.get(A)!.w, 240_000);
    assert.equal(reopened.size, 20_001);
  });

  test('a compaction that meets a full disk keeps the journal; a later one succeeds; nothing is lost', async () => {
    const flag = join(dir, '..', 'disk-full');
    const store = await open(diskFullWhileFlagged(nodeStateFiles, flag));
    await store.prepareToWrite();
    store.record(updates([A, 60_000, []]));
    writeFileSync(flag, '');
    await assert.rejects(store.compact(), /cursors\.json\.tmp \(ENOSPC.*Fix: free space/);
    assert.equal(existsSync(join(dir, 'cursors.json.tmp')), false, 'no half-written temp file left');
    rmSync(flag);
    store.record(updates([B, 60_000, []]));
    let reopened = await open();
    assert.equal(reopened.get(A)!.w, 60_000);
    await store.compact();
    reopened = await open();
    assert.equal(reopened.get(B)!.w, 60_000);
    assert.deepEqual(
      readdirSync(dir).sort(),
      ['cursors-2.journal', 'cursors.json'].filter((n) => existsSync(join(dir, n))),
    );
  });

  test('cursors nothing recorded for the grace period are dropped; recorded ones stay', async () => {
    const store = new CursorStore({ stateDir: dir, logger: createSilentLogger(), clock, graceMs: DAY });
    await store.load();
    await store.prepareToWrite();
    store.record(updates([A, 60_000, []]));
    clock.advance(2 * DAY);
    store.record(updates([B, 60_000, []]));
    await store.compact();
    assert.equal(store.get(A), undefined);
    assert.equal(store.get(B)!.w, 60_000);
  });

  test('state files of an earlier version: cursors kept for their queries, old files removed once saved', async () => {
    mkdirSync(dir, { recursive: true });
    const fixture = new URL('../../fixtures/state-v3/', import.meta.url).pathname.replace('/dist/', '/');
    cpSync(fixture, dir, { recursive: true });
    rmSync(join(dir, 'README.md'));
    const store = await open();
    const owner = {
      instanceFile: 'amazon_lambda_0000000000000000',
      sameCheck: /^amazon_lambda_[0-9a-f]{16}$/,
    };
    const adopted = store.adoptLegacy('us-east-1|dWIbsUWm2A3pr_Ip', owner);
    assert.ok(adopted, 'found through another instance ID of the same check');
    // The snapshot said [1795607880000, 1795607940000]; the journal after it moved it on: the journal wins.
    assert.equal(adopted.w, 1795608120000);
    assert.deepEqual(adopted.seen, []);
    assert.equal(store.adoptLegacy('us-east-1|dWIbsUWm2A3pr_Ip', owner), undefined, 'adopted once');
    const other = { instanceFile: 'x', sameCheck: /^amazon_api_gateway_[0-9a-f]{16}$/ };
    assert.equal(store.adoptLegacy('us-east-1|Npe5ciINqFXFvrco', other), undefined, 'not by another check');
    await store.prepareToWrite();
    await store.compact();
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('amazon_')),
      [],
    );
    // What was not adopted yet is in the new snapshot, still waiting for its query.
    const reopened = await open();
    assert.ok(reopened.adoptLegacy('us-east-1|Npe5ciINqFXFvrco', owner));
  });

  test('a real full filesystem (64 KiB tmpfs): the error names the file; nothing is lost once space is back', async (t) => {
    const mount = join(dir, '..', 'small');
    mkdirSync(mount);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount], { stdio: 'ignore' });
    } catch {
      t.skip('mounting a tmpfs needs root and CAP_SYS_ADMIN; the injected full disk above covers the logic');
      return;
    }
    try {
      const small = join(mount, 'state');
      const store = new CursorStore({ stateDir: small, logger: createSilentLogger(), clock });
      await store.load();
      await store.prepareToWrite();
      let recorded = 0;
      let failure: unknown;
      for (let i = 0; i < 2000 && failure === undefined; i++) {
        try {
          store.record(updates([cursorId(['q', i]), 60_000 * i, []]));
          recorded++;
        } catch (error) {
          failure = error;
        }
      }
      assert.ok(failure instanceof StateWriteError, 'the disk filled up');
      assert.match((failure as Error).message, /ENOSPC/);
      // Make room (as an operator would), then the next run writes everything it knows.
      execFileSync('mount', ['-o', 'remount,size=1m', mount]);
      await store.prepareToWrite();
      const reopened = new CursorStore({ stateDir: small, logger: createSilentLogger(), clock });
      await reopened.load();
      assert.equal(reopened.size, recorded + 1, 'every cursor, the one the full disk refused included');
      await store.close();
    } finally {
      execFileSync('umount', [mount], { stdio: 'ignore' });
    }
  });
});
