/**
 * The README's sample deployment event is what the code sends: `dogwatch check amazon_lambda --json`'s run
 * path (runCheckOnce) against the emulator, on a fixed clock, with the instance the README describes. The
 * README holds the event as a person sees it in the event stream (rendered below) and the `--json` line.
 * On a mismatch the test prints both as they should read.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ManualClock } from '../../core/clock.js';
import { createSilentLogger } from '../../core/log/logger.js';
import { packageFile } from '../../core/package-root.js';
import { runCheckOnce } from '../../core/runtime/check-once.js';
import { formatSampleJson } from '../../core/sink/console-sink.js';
import { MemorySink } from '../../core/sink/memory-sink.js';
import type { EventSample } from '../../core/sink/samples.js';
import { builtinChecksModule } from '../../checks/index.js';
import { AwsEmulator } from '../../emulator/index.js';
import { useEmulatorCredentials } from '../support/collection-harness.js';
import { TempWorkspace, testSettings } from '../support/daemon-harness.js';
import { bareWorld, T0 } from '../support/emulated-collection.js';

/** The event as Datadog's event stream shows it: title and alert type, the text, the tags. */
function rendered(e: EventSample): string {
  const head = `${e.title}  `.padEnd(100 - `${e.alertType} · ${e.sourceTypeName}`.length);
  const tagLines: string[] = [];
  for (const tag of e.tags) {
    const last = tagLines.length - 1;
    if (last >= 0 && tagLines[last]!.length + 2 + tag.length <= 100) tagLines[last] += `  ${tag}`;
    else tagLines.push(tag);
  }
  return [`${head}${e.alertType} · ${e.sourceTypeName}`, ...e.text.split('\n'), ...tagLines].join('\n');
}

test('the README sample deployment event is the one `dogwatch check amazon_lambda --json` prints', async () => {
  useEmulatorCredentials();
  const emulator = new AwsEmulator({
    clock: new ManualClock(T0),
    world: bareWorld({ functionNames: ['orders-handler'] }),
  });
  const endpoint = await emulator.start();
  const ws = new TempWorkspace();
  try {
    ws.writeConf(
      'amazon_lambda',
      `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1]\n    collect_deployment_events: true\n` +
        '    tags: ["team:checkout"]\n    metrics: {include: ["aws.lambda.invocations"]}\n',
    );
    const sink = new MemorySink();
    const result = await runCheckOnce({
      settings: testSettings(ws),
      env: {},
      logger: createSilentLogger(),
      clock: new ManualClock(T0),
      checkName: 'amazon_lambda',
      sink,
      persist: false,
      modules: [builtinChecksModule],
    });
    assert.ok(result.runs[0]?.outcome.ok, JSON.stringify(result));
    const event = sink.samples.find((s): s is EventSample => s.kind === 'event');
    assert.ok(event, 'the run sent a deployment event');
    const readme = readFileSync(packageFile('README.md'), 'utf8');
    const block = /As a person sees it in the event stream:\n\n```\n([^`]*)```/.exec(readme)?.[1];
    const json = /prints it as [^\n]*\n[^\n]*\n\n```json\n([^\n]*)\n```/.exec(readme)?.[1];
    assert.equal(block, `${rendered(event)}\n`, `README block should read:\n${rendered(event)}`);
    assert.equal(
      json,
      formatSampleJson(event),
      `README --json line should read:\n${formatSampleJson(event)}`,
    );
  } finally {
    await emulator.stop();
    ws.cleanup();
  }
});
