/**
 * The nine ways outside tests lost, repeated or leaked data (issue 13), each reproduced against the
 * emulator and real sockets. Every test here failed before its fix; the figures each one measures are
 * printed as `# exactly once: …` lines.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunOutcome } from '../../core/runtime/instance-runner.js';
import { sha1 } from '../../core/state/cursor-id.js';
import { LAMBDA_KEYS, lambdaTruth, REKOGNITION_KEYS } from '../support/check-truth.js';
import { useEmulatorCredentials } from '../support/collection-harness.js';
import {
  bareWorld,
  type EmulatedCollection,
  lambdaScope,
  MINUTE,
  rekognitionTruth,
  seriesIdentity,
  startEmulatedCollection,
  T0,
} from '../support/emulated-collection.js';
import { diffPoints, expectedPoints, metricTable, type ParsedMetricLine } from '../support/world-truth.js';

const figures: string[] = [];
before(() => useEmulatorCredentials());
after(() => {
  for (const line of figures) console.log(`# exactly once: ${line}`);
});

const ofNamespace = (lines: readonly ParsedMetricLine[], prefix: string): ParsedMetricLine[] =>
  lines.filter((l) => l.metric.startsWith(prefix) && l.timestamp !== undefined);

describe('#2 delivery is accounted per batch, and a line too long for a datagram is trimmed, not dropped', () => {
  test('instance tags too long for a datagram on one instance make no other instance resend anything', async () => {
    const longTags = Array.from({ length: 8 }, (_, i) => `"team${i}:${'x'.repeat(194)}"`).join(', ');
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 6, rekognitionOperations: 3 }),
      emulator: { publicationDelay: { baseSeconds: 0, jitterSeconds: 0 } },
      confs: {
        amazon_lambda:
          '    regions: [us-east-1]\n    metrics: {include: ["aws.lambda.invocations", "aws.lambda.errors"]}\n',
        amazon_rekognition: `    regions: [us-east-1]\n    tags: [${longTags}]\n`,
      },
    });
    try {
      const runs = 5;
      for (let run = 0; run < runs; run++) {
        const outcomes = await s.harness.runAllConcurrently();
        for (const o of outcomes) assert.ok(o.ok, `run ${run}: ${o.error}`);
        s.clock.advance(MINUTE);
      }
      await s.settle();
      const world = s.emulator.world;
      const toMs = T0 + (runs - 1) * MINUTE - 2 * MINUTE;
      const lambda = diffPoints(
        new Map(
          [...lambdaTruth(world, T0 - 3 * MINUTE, toMs)].filter(
            ([k]) => k.startsWith('aws.lambda.invocations@') || k.startsWith('aws.lambda.errors@'),
          ),
        ),
        ofNamespace(s.lines(), 'aws.lambda.'),
        LAMBDA_KEYS,
      );
      const rekognition = diffPoints(
        rekognitionTruth(world, T0 - 3 * MINUTE, toMs),
        ofNamespace(s.lines(), 'aws.rekognition.'),
        REKOGNITION_KEYS,
      );
      figures.push(
        `#2 long instance tags: lambda ${lambda.duplicated.length} duplicated / ${lambda.missing.length} lost, ` +
          `rekognition ${rekognition.duplicated.length} duplicated / ${rekognition.missing.length} lost`,
      );
      assert.deepEqual(lambda.duplicated.slice(0, 3), [], `${lambda.duplicated.length} Lambda points resent`);
      assert.deepEqual(lambda.missing.slice(0, 3), []);
      assert.deepEqual(
        rekognition.missing.slice(0, 3),
        [],
        `${rekognition.missing.length} Rekognition points lost`,
      );
      assert.deepEqual(rekognition.duplicated.slice(0, 3), []);
      // The long tags were trimmed by the documented rule, and the instance says so.
      const rekognitionLine = ofNamespace(s.lines(), 'aws.rekognition.')[0]!;
      assert.ok(rekognitionLine.tags.includes('region:us-east-1'), 'identity tags are kept');
      const status = s.harness.status.snapshot({ version: 't', sink: {} });
      const warnings = status.instances.find((i) => i.checkName === 'amazon_rekognition')!.warnings;
      assert.ok(
        warnings.some((w) => /tags? .*trimmed|trimmed .*tags?/i.test(w)),
        `a warning about trimmed tags: ${JSON.stringify(warnings)}`,
      );
    } finally {
      await s.close();
    }
  });

  test('50 AWS tags per function (the AWS maximum): every point arrives once, tags trimmed with a warning', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 4, awsTagsPerFunction: 50, rekognitionOperations: 2 }),
      emulator: { publicationDelay: { baseSeconds: 0, jitterSeconds: 0 } },
      confs: {
        amazon_lambda:
          '    regions: [us-east-1]\n    metrics: {include: ["aws.lambda.invocations", "aws.lambda.duration"]}\n',
        amazon_rekognition: '    regions: [us-east-1]\n',
      },
    });
    try {
      const runs = 4;
      for (let run = 0; run < runs; run++) {
        const outcomes = await s.harness.runAllConcurrently();
        for (const o of outcomes) assert.ok(o.ok, `run ${run}: ${o.error}`);
        s.clock.advance(MINUTE);
      }
      await s.settle();
      const world = s.emulator.world;
      const toMs = T0 + (runs - 1) * MINUTE - 2 * MINUTE;
      const wanted = new Map(
        [...lambdaTruth(world, T0 - 3 * MINUTE, toMs)].filter(
          ([k]) => k.startsWith('aws.lambda.invocations@') || k.startsWith('aws.lambda.duration@'),
        ),
      );
      const lambda = diffPoints(wanted, ofNamespace(s.lines(), 'aws.lambda.'), LAMBDA_KEYS);
      const rekognition = diffPoints(
        rekognitionTruth(world, T0 - 3 * MINUTE, toMs),
        ofNamespace(s.lines(), 'aws.rekognition.'),
        REKOGNITION_KEYS,
      );
      figures.push(
        `#2 50 AWS tags: lambda ${lambda.missing.length} lost / ${lambda.duplicated.length} duplicated of ${wanted.size}, ` +
          `untagged instance ${rekognition.duplicated.length} duplicated`,
      );
      assert.deepEqual(lambda.missing.slice(0, 3), [], `${lambda.missing.length} of ${wanted.size} lost`);
      assert.deepEqual(lambda.duplicated.slice(0, 3), []);
      assert.deepEqual(rekognition.duplicated.slice(0, 3), [], 'the untagged instance resends nothing');
      const line = ofNamespace(s.lines(), 'aws.lambda.')[0]!;
      assert.ok(
        line.tags.some((t) => t.startsWith('functionname:')),
        'identity tags kept',
      );
      assert.ok(
        line.tags.some((t) => t.startsWith('runtime:')),
        'attribute tags kept before AWS tags',
      );
      const status = s.harness.status.snapshot({ version: 't', sink: {} });
      const warnings = status.instances.find((i) => i.checkName === 'amazon_lambda')!.warnings;
      assert.ok(
        warnings.some((w) => /trimmed/i.test(w)),
        JSON.stringify(warnings),
      );
    } finally {
      await s.close();
    }
  });
});

describe('#5 an Agent that stops listening on UDP is detected, reported, and loses nothing', () => {
  test('15 CloudWatch minutes without an Agent on the UDP port: runs fail with the reason, then every point arrives once', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 3, rekognitionOperations: 3 }),
      emulator: { publicationDelay: { baseSeconds: 0, jitterSeconds: 0 } },
      sink: { flushTimeoutMs: 300, reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 100 },
      confs: {
        amazon_lambda: '    regions: [us-east-1]\n    metrics: {include: ["aws.lambda.invocations"]}\n',
        amazon_rekognition: '    regions: [us-east-1]\n',
      },
    });
    try {
      const down = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
      const runs = 22;
      let failedDuringOutage = 0;
      for (let run = 0; run < runs; run++) {
        if (down.has(run) && !down.has(run - 1)) await s.listener.goDown();
        if (!down.has(run) && down.has(run - 1)) await s.listener.comeBack();
        const outcomes = await s.harness.runAllConcurrently();
        if (down.has(run)) {
          for (const o of outcomes) {
            if (!o.ok) failedDuringOutage++;
            assert.equal(o.ok, false, `run ${run} during the outage is not OK`);
            assert.match(o.error ?? '', /Agent|DogStatsD|refused/i, `run ${run} says why`);
          }
        } else if (!down.has(run - 1) && !down.has(run - 2)) {
          for (const o of outcomes) assert.ok(o.ok, `run ${run}: ${o.error}`);
        }
        s.clock.advance(MINUTE);
      }
      await s.settle();
      const world = s.emulator.world;
      const toMs = T0 + (runs - 1) * MINUTE - 2 * MINUTE;
      const lambda = diffPoints(
        new Map(
          [...lambdaTruth(world, T0 - 3 * MINUTE, toMs)].filter(([k]) =>
            k.startsWith('aws.lambda.invocations@'),
          ),
        ),
        ofNamespace(s.lines(), 'aws.lambda.'),
        LAMBDA_KEYS,
      );
      const rekognition = diffPoints(
        rekognitionTruth(world, T0 - 3 * MINUTE, toMs),
        ofNamespace(s.lines(), 'aws.rekognition.'),
        REKOGNITION_KEYS,
      );
      const lost = lambda.missing.length + rekognition.missing.length;
      const repeated = lambda.duplicated.length + rekognition.duplicated.length;
      figures.push(
        `#5 UDP outage of 15 min: ${failedDuringOutage} runs reported failed, ${lost} points lost, ${repeated} duplicated`,
      );
      assert.deepEqual([...lambda.missing, ...rekognition.missing].slice(0, 3), [], `${lost} points lost`);
      assert.deepEqual([...lambda.duplicated, ...rekognition.duplicated].slice(0, 3), []);
      const status = s.harness.status.snapshot({ version: 't', sink: {} });
      for (const instance of status.instances)
        assert.match(instance.lastError?.message ?? '', /Agent|DogStatsD/);
    } finally {
      await s.close();
    }
  });
});

describe('#8 every tag from every source goes through one normaliser', () => {
  test('DD_ENV, DD_TAGS and self-metric tags cannot inject lines, sample rates or raw characters', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 2, httpApis: 1, rekognitionOperations: 1 }),
      env: {
        DD_ENV: 'prod\nfake.injected.metric:1337|c|#team:victim',
        DD_TAGS: 'team:a|@0.01 _private:x trailing: 9lives:yes',
      },
      confs: {
        amazon_lambda: '    regions: [us-east-1]\n    metrics: {include: ["aws.lambda.invocations"]}\n',
        amazon_api_gateway: '    regions: [us-east-1]\n',
      },
    });
    try {
      for (let run = 0; run < 2; run++) {
        await s.harness.runAll();
        s.clock.advance(MINUTE);
      }
      await s.settle();
      const lines = s.listener.lines();
      assert.ok(lines.length > 0);
      const injected = lines.filter((l) => l.startsWith('fake.injected'));
      const withRate = lines.filter((l) => /\|@/.test(l));
      const rawTags = new Set<string>();
      for (const line of lines) {
        const section = line.split('|').find((f) => f.startsWith('#'));
        for (const tag of section?.slice(1).split(',') ?? []) {
          if (tag === 'host:') continue;
          if (!/^[a-z][a-z0-9_\-:./]*$/.test(tag) || tag.endsWith(':') || tag.length > 200) rawTags.add(tag);
        }
      }
      figures.push(
        `#8 tags: ${injected.length} injected lines, ${withRate.length} lines with a sample rate, ${rawTags.size} raw tags`,
      );
      assert.deepEqual(injected, []);
      assert.deepEqual(withRate, []);
      assert.deepEqual([...rawTags], []);
      assert.ok(
        lines.some((l) => l.includes('operation:getmetricdata')),
        'self-metric tags normalised',
      );
    } finally {
      await s.close();
    }
  });
});

/** Runs every instance once a CloudWatch minute, `runs` times; returns the outcomes of each run. */
async function runMinutes(
  s: EmulatedCollection,
  runs: number,
  between?: (run: number) => Promise<void> | void,
) {
  const all: RunOutcome[][] = [];
  for (let run = 0; run < runs; run++) {
    await between?.(run);
    all.push(await s.harness.runAllConcurrently());
    s.clock.advance(MINUTE);
  }
  await s.settle();
  return all;
}

/** Every Rekognition and Lambda (invocations) point up to `toMs`, against what arrived. */
function diffAll(s: EmulatedCollection, toMs: number, fromMs = T0 - 3 * MINUTE) {
  const world = s.emulator.world;
  const lambda = diffPoints(
    new Map([...lambdaTruth(world, fromMs, toMs)].filter(([k]) => k.startsWith('aws.lambda.invocations@'))),
    ofNamespace(s.lines(), 'aws.lambda.'),
    LAMBDA_KEYS,
  );
  const rekognition = diffPoints(
    rekognitionTruth(world, fromMs, toMs),
    ofNamespace(s.lines(), 'aws.rekognition.'),
    REKOGNITION_KEYS,
  );
  return {
    missing: [...lambda.missing, ...rekognition.missing],
    duplicated: [...lambda.duplicated, ...rekognition.duplicated],
    unexpected: [...lambda.unexpected, ...rekognition.unexpected],
    wrongValue: [...lambda.wrongValue, ...rekognition.wrongValue],
  };
}

const LAMBDA_AND_REKOGNITION = {
  amazon_lambda: '    regions: [us-east-1]\n    metrics: {include: ["aws.lambda.invocations"]}\n',
  amazon_rekognition: '    regions: [us-east-1]\n',
};

describe('#1 cursors never trust the future', () => {
  test('a wall clock 20 min ahead for a while, then corrected: nothing skipped, the step is reported', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 2, rekognitionOperations: 3 }),
      emulator: { publicationDelay: { baseSeconds: 30, jitterSeconds: 60 } },
      confs: LAMBDA_AND_REKOGNITION,
    });
    try {
      let warned = false;
      const outcomes = await runMinutes(s, 14, (run) => {
        if (run === 4) s.clock.step(20 * MINUTE);
        if (run === 5) {
          // The run with the clock ahead said so on the instances' status.
          warned = s.harness.status
            .snapshot({ version: 't', sink: {} })
            .instances.every((i) => i.warnings.some((w) => /system clock is 1200 s ahead of AWS/.test(w)));
        }
        if (run === 6) s.clock.step(-20 * MINUTE);
      });
      for (const o of outcomes.flat()) assert.ok(o.ok, o.error);
      assert.ok(warned, 'the step is reported on status');
      const diff = diffAll(s, T0 + 11 * MINUTE);
      figures.push(
        `#1 clock 20 min ahead for 2 runs: ${diff.missing.length} lost, ${diff.duplicated.length} duplicated`,
      );
      assert.deepEqual(diff.missing.slice(0, 3), [], `${diff.missing.length} points skipped`);
      assert.deepEqual(diff.duplicated, []);
      assert.deepEqual(diff.unexpected, []);
    } finally {
      await s.close();
    }
  });

  test('watermarks edited 2 h into the future: refused with a warning, collection goes on at once', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ rekognitionOperations: 3 }),
      emulator: { publicationDelay: { baseSeconds: 0, jitterSeconds: 0 } },
      confs: { amazon_rekognition: '    regions: [us-east-1]\n' },
    });
    try {
      await runMinutes(s, 3);
      await s.harness.stop();
      const snapshot = join(s.workspace.stateDir, 'cursors.json');
      const [header, ...lines] = readFileSync(snapshot, 'utf8').split('\n');
      const edited = lines.map((line) => {
        if (!line) return line;
        const entry = JSON.parse(line) as [string, number, number, ...number[]];
        entry[2] += 120 * MINUTE;
        return JSON.stringify(entry);
      });
      writeFileSync(snapshot, [header, ...edited].join('\n'));
      await s.harness.start();
      const sentBefore = ofNamespace(s.lines(), 'aws.rekognition.').length;
      const outcome = (await runMinutes(s, 1))[0]![0];
      assert.ok(outcome!.ok, outcome!.error);
      const status = s.harness.status.snapshot({ version: 't', sink: {} }).instances[0]!;
      assert.ok(
        status.warnings.some((w) => /past AWS's time.*refused/.test(w)),
        JSON.stringify(status.warnings),
      );
      assert.ok(ofNamespace(s.lines(), 'aws.rekognition.').length > sentBefore, 'points in the same run');
      figures.push('#1 watermarks +2 h: refused with a warning, points in the first run after');
    } finally {
      await s.close();
    }
  });

  test('CloudWatch timestamps outside the asked window (year 3000, 30 s off the period) are refused', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ rekognitionOperations: 2 }),
      emulator: { publicationDelay: { baseSeconds: 0, jitterSeconds: 0 } },
      confs: { amazon_rekognition: '    regions: [us-east-1]\n' },
    });
    try {
      s.emulator.setFaults({
        mutateResponse: (target, body) => {
          if (target.operation !== 'GetMetricData') return undefined;
          const parsed = JSON.parse(body) as {
            MetricDataResults: { Timestamps: number[]; Values: number[] }[];
          };
          const first = parsed.MetricDataResults[0]!;
          first.Timestamps = [...first.Timestamps, 32503680000, (first.Timestamps[0] ?? T0 / 1000) + 30];
          first.Values = [...first.Values, 1, 2];
          return JSON.stringify(parsed);
        },
      });
      await runMinutes(s, 2);
      s.emulator.clearFaults();
      await runMinutes(s, 3);
      const stamps = ofNamespace(s.lines(), 'aws.rekognition.').map((l) => l.timestamp!);
      assert.ok(
        stamps.every((t) => t < 32503680000 && t % 60 === 0),
        'never emitted',
      );
      const diff = diffAll(s, T0 + 2 * MINUTE);
      assert.deepEqual(diff.missing, []);
      assert.deepEqual(diff.duplicated, []);
      const status = s.harness.status.snapshot({ version: 't', sink: {} });
      figures.push('#1 out-of-window timestamps: refused, never emitted, no watermark moved by them');
      assert.ok(status.instances.length > 0);
    } finally {
      await s.close();
    }
  });
});

describe('#3 a full state disk neither loses nor repeats, and says which file and what to do', () => {
  test('the disk fills up mid-collection, the process is killed, space comes back: every point once', async () => {
    const flag = join(tmpdir(), `dogwatch-disk-full-${process.pid}`);
    process.env.DOGWATCH_FAULT_DISK_FULL_FLAG = flag;
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 4, rekognitionOperations: 3 }),
      emulator: { publicationDelay: { baseSeconds: 30, jitterSeconds: 60 } },
      confs: LAMBDA_AND_REKOGNITION,
    });
    delete process.env.DOGWATCH_FAULT_DISK_FULL_FLAG;
    try {
      let failedWithReason = 0;
      // A nearly full volume: a few kilobytes free, used up within a few runs.
      writeFileSync(flag, '5000');
      const during = await runMinutes(s, 7);
      for (const o of during.flat()) {
        if (o.ok) continue;
        assert.match(o.error ?? '', /cannot write the state file .*ENOSPC.*Fix: free space/);
        failedWithReason++;
      }
      assert.ok(failedWithReason > 0, 'the full disk was reached');
      // SIGKILL while the disk is full: only what is on disk survives.
      s.harness.abandon();
      rmSync(flag);
      await s.harness.start();
      const after = await runMinutes(s, 8);
      for (const o of after.flat()) assert.ok(o.ok, o.error);
      await s.harness.stop();
      await s.harness.start();
      await runMinutes(s, 2);
      const diff = diffAll(s, T0 + 12 * MINUTE);
      figures.push(
        `#3 full disk + SIGKILL: ${failedWithReason} runs stopped before sending, ${diff.missing.length} lost, ${diff.duplicated.length} duplicated`,
      );
      assert.deepEqual(diff.missing.slice(0, 3), [], `${diff.missing.length} lost`);
      assert.deepEqual(diff.duplicated.slice(0, 3), [], `${diff.duplicated.length} duplicated`);
    } finally {
      rmSync(flag, { force: true });
      await s.close();
    }
  });
});

describe("#4 cursors belong to queries, not to an instance's configuration", () => {
  test('changing options (discovery_ttl, tags) keeps every cursor: nothing lost to late points, nothing repeated', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 3, rekognitionOperations: 3 }),
      emulator: { publicationDelay: { baseSeconds: 30, jitterSeconds: 240 } },
      confs: LAMBDA_AND_REKOGNITION,
    });
    try {
      await runMinutes(s, 5, async (run) => {
        if (run !== 3) return;
        s.workspace.writeConf(
          'amazon_rekognition',
          `instances:\n  - endpoint_url: ${s.endpoint}\n    regions: [us-east-1]\n    discovery_ttl: 601\n    tags: ["team:vision"]\n`,
        );
        await s.harness.restart();
      });
      await runMinutes(s, 10);
      const diff = diffAll(s, T0 + 8 * MINUTE);
      figures.push(`#4 config change: ${diff.missing.length} lost, ${diff.duplicated.length} duplicated`);
      assert.deepEqual(diff.missing.slice(0, 3), [], `${diff.missing.length} lost`);
      assert.deepEqual(diff.duplicated.slice(0, 3), []);
      assert.deepEqual(
        readdirSync(s.workspace.stateDir).filter((f) => f.startsWith('amazon_')),
        [],
        'no state file per instance piles up',
      );
    } finally {
      await s.close();
    }
  });
});

describe('#6 a denied optional permission degrades one feature and names the IAM action', () => {
  for (const action of ['tag:GetResources', 'lambda:ListFunctions']) {
    test(`without ${action}: Lambda metrics flow, exactly once, and a warning names ${action}`, async () => {
      const s = await startEmulatedCollection({
        world: bareWorld({ functions: 3 }),
        emulator: { publicationDelay: { baseSeconds: 0, jitterSeconds: 0 }, deniedActions: [action] },
        confs: { amazon_lambda: LAMBDA_AND_REKOGNITION.amazon_lambda },
      });
      try {
        const outcomes = await runMinutes(s, 5);
        for (const o of outcomes.flat()) assert.ok(o.ok, o.error);
        const diff = diffAll(s, T0 + 2 * MINUTE);
        const warnings = s.harness.status.snapshot({ version: 't', sink: {} }).instances[0]!.warnings;
        figures.push(
          `#6 ${action} denied: ${outcomes.flat().filter((o) => o.ok).length} of ${outcomes.flat().length} runs OK, ${diff.missing.length} lost`,
        );
        assert.deepEqual(diff.missing, []);
        assert.deepEqual(diff.duplicated, []);
        assert.ok(
          warnings.some((w) => w.includes(`${action} is denied`) && w.includes(`allow ${action}`)),
          JSON.stringify(warnings),
        );
      } finally {
        await s.close();
      }
    });
  }

  test('with tag_filters, the Tagging API is needed: the run fails and says which action to allow', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ functions: 2 }),
      emulator: { deniedActions: ['tag:GetResources'] },
      confs: { amazon_lambda: '    regions: [us-east-1]\n    tag_filters: {env: [prod]}\n' },
    });
    try {
      const [[outcome]] = (await runMinutes(s, 1)) as [[RunOutcome]];
      assert.equal(outcome.ok, false);
      assert.match(
        outcome.error ?? '',
        /tag_filters needs .* tag:GetResources is denied.*Fix: allow tag:GetResources/,
      );
    } finally {
      await s.close();
    }
  });
});

describe('#7 credentials are cached per everything that defines them', () => {
  test('same role_arn, different external_id: each instance gets its own session, the wrong one is refused', async () => {
    const role = 'arn:aws:iam::123456789012:role/dogwatch-reader';
    const s = await startEmulatedCollection({
      world: bareWorld({ rekognitionOperations: 2 }),
      confs: {},
    });
    try {
      s.emulator.requireExternalId(role, 'right-external-id');
      const instance = (id: string) =>
        `  - endpoint_url: ${s.endpoint}\n    regions: [us-east-1]\n    role_arn: ${role}\n    external_id: ${id}\n`;
      s.workspace.writeConf(
        'amazon_rekognition',
        `instances:\n${instance('right-external-id')}${instance('wrong-external-id')}`,
      );
      await s.harness.restart();
      for (let run = 0; run < 2; run++) {
        const [right, wrong] = await s.harness.runAll();
        assert.ok(right!.ok, right!.error);
        assert.equal(
          wrong!.ok,
          false,
          'the instance with the wrong external_id never gets the other session',
        );
        assert.match(wrong!.error ?? '', /sts:AssumeRole/);
        assert.doesNotMatch(
          wrong!.error ?? '',
          /wrong-external-id|right-external-id/,
          'no secret in the message',
        );
        s.clock.advance(MINUTE);
      }
      figures.push(
        '#7 external_id: the wrong instance is refused by STS in every run, the right one collects',
      );
    } finally {
      await s.close();
    }
  });
});

describe('#9 series never collide', () => {
  test('Lambda functions whose names differ only in case stay two series (case_id), every point once', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ functionNames: ['Orders', 'orders', 'ORDERS'] }),
      emulator: { publicationDelay: { baseSeconds: 0, jitterSeconds: 0 } },
      confs: { amazon_lambda: LAMBDA_AND_REKOGNITION.amazon_lambda },
    });
    try {
      await runMinutes(s, 5);
      const world = s.emulator.world;
      const caseId = (series: { dimensions: readonly { Value: string }[] }): string[] => {
        const name = series.dimensions[0]!.Value;
        return /[A-Z]/.test(name) ? [`case_id:${sha1(name, 'hex').slice(0, 6)}`] : [];
      };
      const expected = expectedPoints({
        world,
        series: world.series({ namespace: 'AWS/Lambda' }),
        rows: metricTable('amazon_lambda').filter((r) => r.metricName === 'aws.lambda.invocations'),
        scopeOf: (x) => (lambdaScope(x) === 'function' ? 'function' : undefined),
        identity: (x) => [...seriesIdentity(x), ...caseId(x)],
        fromMs: T0 - 3 * MINUTE,
        toMs: T0 + 2 * MINUTE,
      });
      const diff = diffPoints(expected, ofNamespace(s.lines(), 'aws.lambda.'), [...LAMBDA_KEYS, 'case_id']);
      figures.push(
        `#9 Orders/orders/ORDERS: ${expected.size} points on ${new Set([...expected.keys()].map((k) => k.slice(k.indexOf('{')))).size} series, ${diff.duplicated.length} merged`,
      );
      assert.equal(new Set([...expected.keys()].map((k) => k.slice(k.indexOf('{')))).size, 3);
      assert.deepEqual(diff, { missing: [], unexpected: [], duplicated: [], wrongValue: [] });
    } finally {
      await s.close();
    }
  });
});

describe('also found: Lambda@Edge by name, can_connect per instance, /status and Host, private state files', () => {
  test('a listing that ignores MasterRegion (moto) still leaves replicas tagged to their master', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ regions: ['us-east-1', 'eu-west-1'], edgeFunctions: 1, functions: 1 }),
      emulator: { publicationDelay: { baseSeconds: 0, jitterSeconds: 0 }, edgeReplicasListed: false },
      confs: {
        amazon_lambda: '    regions: [eu-west-1]\n    metrics: {include: ["aws.lambda.invocations"]}\n',
      },
    });
    try {
      await runMinutes(s, 3);
      const replica = ofNamespace(s.lines(), 'aws.lambda.').filter((l) =>
        l.tags.includes('functionname:us-east-1.edge-auth'),
      );
      assert.ok(replica.length > 0, 'the replica series was collected');
      for (const line of replica) {
        assert.ok(line.tags.includes('at_edge:true'), line.tags.join(','));
        assert.ok(line.tags.includes('edge_master_name:edge-auth'));
        assert.ok(
          line.tags.includes('edge_master_arn:arn:aws:lambda:us-east-1:123456789012:function:edge-auth'),
        );
      }
    } finally {
      await s.close();
    }
  });

  test('can_connect carries the instance, so two instances of a check can be told apart', async () => {
    const s = await startEmulatedCollection({
      world: bareWorld({ rekognitionOperations: 1 }),
      confs: {},
    });
    try {
      const instance = `  - endpoint_url: ${s.endpoint}\n    regions: [us-east-1]\n`;
      s.workspace.writeConf('amazon_rekognition', `instances:\n${instance}${instance}    name: second\n`);
      await s.harness.restart();
      await runMinutes(s, 1);
      const checks = s.listener.lines().filter((l) => l.startsWith('_sc|amazon_rekognition.can_connect|'));
      const instances = new Set(checks.map((l) => /instance:([^,|]+)/.exec(l)?.[1]));
      assert.equal(instances.size, 2, checks.join('\n'));
      assert.ok([...instances].some((i) => i?.startsWith('amazon_rekognition:second:')));
    } finally {
      await s.close();
    }
  });
});
