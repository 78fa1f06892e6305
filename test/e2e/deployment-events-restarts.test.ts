/**
 * Deployment events through real daemon processes (`dogwatch run`), SIGKILLed again and again: at the
 * event path's crash points (DOGWATCH_CRASH_AT=event-before-emit / event-after-record, core/fault-injection.ts)
 * and at seeded random moments, with the Agent's socket gone for a while, under 30 % LookupEvents
 * throttling, for more than 30 CloudWatch minutes (emulator clock at 60×) of scheduled deployments that
 * reach LookupEvents 1–14 minutes late. Every deployment event of the configured region in the window
 * arrives once with its title, time and tags; nothing of another region, operation or time arrives.
 *
 * Over UDS a datagram is confirmed as soon as the socket took it, so the test holds exactly once. Over UDP
 * a datagram is confirmed after 50 ms without a refusal, and a SIGKILL inside that window re-sends it:
 * the UDP scenario asserts no loss and prints its repeats apart. Prints `# deployment events (SIGKILL): …`.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ScaledClock } from '../../core/clock.js';
import type { DaemonStatus } from '../../core/status/status-registry.js';
import { AwsEmulator, scheduledTrailEvents, SeededRandom } from '../../emulator/index.js';
import { DEFAULT_ACCOUNT } from '../../emulator/world.js';
import { TempWorkspace } from '../support/daemon-harness.js';
import { daemonEnv, freePort, runCli, spawnDaemon, within } from '../support/daemon-process.js';
import {
  type UdsListener,
  startUdpListener,
  startUdsListener,
  UDP_MAX_DATAGRAM_BYTES,
  UDS_MAX_DATAGRAM_BYTES,
} from '../support/dogstatsd-listener.js';
import { assertValidDatagram } from '../support/dogstatsd-validator.js';
import { bareWorld, MINUTE } from '../support/emulated-collection.js';
import { expectedEvent, isDeploymentEvent, type ParsedEvent, tallyEvents } from '../support/trail-truth.js';

const SPEED = 60;
const LOOKBACK_S = 1800;
/** How much later than the first instance's window the other instance's may start (virtual ms). */
const INSTANCE_START_SPREAD_MS = 5 * MINUTE;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const figures: string[] = [];
after(() => {
  for (const line of figures) console.log(`# deployment events (SIGKILL): ${line}`);
});

/**
 * One daemon process of a scenario: killed at a crash point, or `killAfterMs` after it started; with an
 * outage, the Agent's socket is gone from `afterMs` until the daemon says that events were not delivered
 * (at least `forMs`), and the kill comes `killAfterMs` after it is back. The sink queues for 10 s before
 * it gives up, and a run's metrics go first: a short outage only delays the events (queued, then sent);
 * waiting for the refusal makes the test exercise the re-send path whatever the machine's load.
 */
type Step =
  | { readonly crashAt: string }
  | { readonly killAfterMs: number; readonly outage?: { readonly afterMs: number; readonly forMs: number } };

/** How long an outage may last while waiting for the daemon to refuse an event. */
const OUTAGE_LIMIT_MS = 90_000;

const REFUSED = /deployment event\(s\) not delivered/;

/** The Agent's socket, which a scenario takes away and gives back. */
interface AgentSocket {
  readonly url: string;
  readonly maxDatagramBytes: number;
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  /** Every datagram received on any of the sockets so far. */
  datagrams(): Buffer[];
  /** Datagrams the kernel dropped at a full receive buffer: the harness's loss, which UDP hides. */
  kernelDrops(): number;
  close(): Promise<void>;
}

async function udsAgent(path: string): Promise<AgentSocket> {
  const retired: Buffer[] = [];
  let listener: UdsListener | undefined = await startUdsListener(path);
  return {
    url: `unix://${path}`,
    maxDatagramBytes: UDS_MAX_DATAGRAM_BYTES,
    async goDown() {
      // As an Agent that stops: the socket refuses new datagrams, what reached it is read, then the file
      // disappears (see UdsListener.goDown).
      const closing = listener!;
      listener = undefined;
      await closing.goDown();
      retired.push(...closing.datagrams);
      await closing.close();
    },
    async comeBack() {
      listener = await startUdsListener(path);
    },
    datagrams: () => [...retired, ...(listener?.datagrams ?? [])],
    kernelDrops: () => 0,
    close: async () => listener?.close(),
  };
}

async function udpAgent(): Promise<AgentSocket> {
  // An Agent-sized receive buffer (`dogstatsd_so_rcvbuf`): this process also runs the emulator.
  const listener = await startUdpListener({ receiveBufferBytes: 4 << 20 });
  return {
    url: `udp://127.0.0.1:${listener.port}`,
    maxDatagramBytes: UDP_MAX_DATAGRAM_BYTES,
    goDown: () => listener.goDown(),
    comeBack: () => listener.comeBack(),
    datagrams: () => [...listener.datagrams],
    kernelDrops: () => listener.kernelDrops(),
    close: () => listener.close(),
  };
}

interface ScenarioResult {
  /** `status` of the last process: its events sent per instance, as /status and `dogwatch status` said. */
  readonly status: string;
  readonly kills: number;
  /** Region reads whose events the Agent's socket did not take during the outage (sent again later). */
  readonly refusedReads: number;
  readonly minutes: number;
  readonly throttled: number;
  readonly lookups: number;
  readonly expected: ReadonlyMap<string, ParsedEvent>;
  readonly optional: number;
  readonly tally: ReturnType<typeof tallyEvents>;
  readonly kernelDrops: number;
}

async function runScenario(transport: 'uds' | 'udp', plan: readonly Step[]): Promise<ScenarioResult> {
  const started = Date.now();
  const origin = Math.ceil(started / MINUTE) * MINUTE;
  const clock = new ScaledClock(started, origin, SPEED);
  const emulator = new AwsEmulator({
    clock,
    world: bareWorld({
      regions: ['us-east-1', 'eu-west-1'],
      functions: 5,
      restApis: 2,
      httpApis: 1,
      createdAtMs: origin - 6 * 3600_000,
    }),
  });
  const endpoint = await emulator.start();
  const ws = new TempWorkspace();
  const agent = transport === 'uds' ? await udsAgent(ws.path('dsd.socket')) : await udpAgent();
  const instance = (extra: string): string =>
    `instances:\n  - endpoint_url: ${endpoint}\n    regions: [us-east-1]\n    min_collection_interval: 1\n` +
    `    collect_deployment_events: true\n    lookback: ${LOOKBACK_S}\n${extra}`;
  ws.writeConf(
    'amazon_lambda',
    instance('    tags: ["team:deploys"]\n    metrics: {include: ["aws.lambda.invocations"]}\n'),
  );
  ws.writeConf('amazon_api_gateway', instance('    metrics: {include: ["aws.apigateway.count"]}\n'));
  const env = daemonEnv(clock, ws, agent.url);
  emulator.setFaults({ seed: 16, rules: [{ kind: 'throttle', rate: 0.3, service: 'cloudtrail' }] });
  // The first LookupEvents call is made after the cursor was created at the first run's now − lookback.
  // That is one instance's first call: the other instance's first run, and so its window, may start a
  // little later (INSTANCE_START_SPREAD_MS: an API Gateway event 15 virtual seconds inside the Lambda
  // instance's window was seen to fall before the API Gateway instance's start). An event at or
  // after (that call's time − lookback + the spread) must arrive.
  const firstSpawnMs = clock.now();
  let firstLookupMs: number | undefined;
  const watch = setInterval(() => {
    if (firstLookupMs === undefined && emulator.accounting.requests({ operation: 'LookupEvents' }) > 0)
      firstLookupMs = clock.now();
  }, 20);
  try {
    let kills = 0;
    let refusedReads = 0;
    for (const step of plan) {
      const daemon = spawnDaemon('crashAt' in step ? { ...env, DOGWATCH_CRASH_AT: step.crashAt } : env);
      if ('crashAt' in step) {
        const ended = await within(daemon.exited, 90_000);
        if (!ended) daemon.child.kill('SIGKILL');
        assert.equal(
          ended?.signal,
          'SIGKILL',
          `crash point ${step.crashAt} should have fired: ${daemon.stderr}`,
        );
      } else {
        const outage = step.outage;
        if (outage) {
          await sleep(outage.afterMs);
          await agent.goDown();
          const downAt = Date.now();
          await sleep(outage.forMs);
          while (!REFUSED.test(daemon.stderr) && Date.now() - downAt < OUTAGE_LIMIT_MS) await sleep(200);
          await agent.comeBack();
        }
        await sleep(step.killAfterMs);
        daemon.child.kill('SIGKILL');
        const ended = await daemon.exited;
        assert.equal(ended.signal, 'SIGKILL', `the daemon was running until killed: ${daemon.stderr}`);
        if (outage) refusedReads += daemon.stderr.match(new RegExp(REFUSED, 'g'))?.length ?? 0;
      }
      kills++;
    }
    const throttled = emulator.accounting.requests({ operation: 'LookupEvents', outcome: 'throttled' });
    const lookups = emulator.accounting.requests({ operation: 'LookupEvents' });
    // Recovery: faults gone, one clean process until more than 30 minutes have passed, stopped gracefully.
    emulator.clearFaults();
    const statusEnv = { ...env, DOGWATCH_STATUS_ADDR: `127.0.0.1:${await freePort()}` };
    const receivedBefore = agent.datagrams().length;
    const last = spawnDaemon(statusEnv);
    await sleep(Math.max(6_000, ((firstSpawnMs + 34 * MINUTE - clock.now()) / SPEED) | 0));
    const status = await statusAgreesWithWire(statusEnv, () =>
      countEvents(agent.datagrams().slice(receivedBefore)),
    );
    const stopMs = clock.now();
    last.child.kill('SIGTERM');
    const exit = await last.exited;
    assert.equal(exit.code, 0, `SIGTERM exits 0: ${JSON.stringify(exit)} ${last.stderr}`);
    await sleep(200);
    assert.ok(firstLookupMs !== undefined, 'LookupEvents was called');

    const lines: string[] = [];
    for (const datagram of agent.datagrams()) {
      assertValidDatagram(datagram, agent.maxDatagramBytes);
      lines.push(...datagram.toString('utf8').split('\n'));
    }
    const world = emulator.world;
    const expected = new Map<string, ParsedEvent>();
    const optional = new Set<string>();
    for (const e of scheduledTrailEvents(world, DEFAULT_ACCOUNT, 'us-east-1', stopMs)) {
      if (!isDeploymentEvent(e) || e.timeMs < firstSpawnMs - LOOKBACK_S * 1000) continue;
      if (e.visibleAtMs > stopMs + MINUTE) continue;
      // Near the window's two ends (the first run's exact instant, the last run's) an event may arrive.
      const must =
        e.timeMs >= firstLookupMs - LOOKBACK_S * 1000 + INSTANCE_START_SPREAD_MS &&
        e.visibleAtMs <= stopMs - 3 * MINUTE;
      if (must) {
        const lambda = e.eventSource === 'lambda.amazonaws.com';
        expected.set(e.id, expectedEvent(world, e, 'us-east-1', lambda ? ['team:deploys'] : []));
      } else optional.add(e.id);
    }
    return {
      status,
      kills,
      refusedReads,
      minutes: (stopMs - firstSpawnMs) / MINUTE,
      throttled,
      lookups,
      expected,
      optional: optional.size,
      tally: tallyEvents(lines, expected, optional),
      kernelDrops: agent.kernelDrops(),
    };
  } finally {
    clearInterval(watch);
    await agent.close();
    await emulator.stop();
    ws.cleanup();
  }
}

const countEvents = (datagrams: readonly Buffer[]): number =>
  datagrams.reduce(
    (n, d) =>
      n +
      d
        .toString('utf8')
        .split('\n')
        .filter((l) => l.startsWith('_e{')).length,
    0,
  );

/**
 * Polls the daemon's /status until the events its instances report as sent (sources.cloudtrail_events)
 * are the events the Agent's socket received from it (between two runs they agree), then checks the
 * cursor lag and `dogwatch status`. Returns a summary.
 */
async function statusAgreesWithWire(env: Record<string, string>, received: () => number): Promise<string> {
  const url = `http://127.0.0.1:${env.DOGWATCH_STATUS_ADDR!.split(':')[1]}/status`;
  const deadline = Date.now() + 20_000;
  let seen = '';
  for (;;) {
    try {
      const status = (await (await fetch(url)).json()) as DaemonStatus;
      const sources = status.instances.map((i) => i.sources['cloudtrail_events']);
      const sent = sources.reduce((n, s) => n + (s?.sent ?? 0), 0);
      seen = `${sent} sent by /status, ${received()} received: ${JSON.stringify(sources)}`;
      if (sources.length === 2 && sources.every((s) => s !== undefined) && sent === received()) {
        for (const s of sources) {
          // The cursor stays a late horizon (30 min) behind AWS's now, give or take a run.
          assert.ok(s.cursorLagSeconds! >= 1740 && s.cursorLagSeconds! <= 2100, seen);
          assert.equal(s.notDelivered, 0, seen);
        }
        const text = await runCli(['status'], env);
        assert.equal(text.code, 0, text.stderr);
        assert.equal(
          text.stdout.match(/Source cloudtrail_events: Sent: \d+ {3}Not delivered: 0 {3}Cursor lag: \d+s/g)
            ?.length,
          2,
          text.stdout,
        );
        return `${sent} events sent by the last process per /status = received; cursor lag ${sources.map((s) => s.cursorLagSeconds).join(', ')} s`;
      }
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      // not listening yet
    }
    assert.ok(Date.now() < deadline, `/status never agreed with the wire: ${seen}`);
    await sleep(100);
  }
}

function assertEventsMatch(result: ScenarioResult): void {
  for (const [id, copies] of result.tally.received) {
    const want = result.expected.get(id);
    if (!want) continue;
    for (const got of copies) {
      assert.equal(got.title, want.title, id);
      assert.equal(got.timestamp, want.timestamp, id);
      assert.equal(got.alertType, want.alertType, id);
      assert.equal(got.sourceType, want.sourceType, id);
      assert.deepEqual([...got.tags].sort(), want.tags, id);
    }
  }
}

function summary(transport: string, r: ScenarioResult): string {
  const { received, missing, duplicated, strays } = r.tally;
  return (
    `${transport}: ${r.minutes.toFixed(0)} CloudWatch minutes, ${r.kills} SIGKILLs, ${r.lookups} LookupEvents ` +
    `calls (${r.throttled} throttled), ${r.refusedReads} reads with events refused during the outage, ${r.kernelDrops} datagrams dropped at the listener's full buffer; ${r.expected.size} events expected (+${r.optional} optional at the ` +
    `window's ends), ${received.size} received, ${missing.length} lost, ${duplicated.length} duplicated, ` +
    `${strays.length} from outside the configuration; ${r.status}`
  );
}

describe('deployment events through SIGKILLed daemon processes', () => {
  test('UDS: crash points, random SIGKILLs and an Agent outage: no event lost; a repeat only from a random kill between a send and its record', async () => {
    const rng = new SeededRandom(1616);
    const steps: Step[] = [
      { crashAt: 'event-before-emit:1' },
      { crashAt: 'event-after-record:1' },
      { killAfterMs: rng.int(1500, 3500) },
      { crashAt: 'event-before-emit:2' },
      { killAfterMs: rng.int(1500, 3500), outage: { afterMs: rng.int(1000, 2000), forMs: 12_000 } },
      { crashAt: 'event-after-record:2' },
      { killAfterMs: rng.int(1500, 3500) },
      { crashAt: 'after-journal:3' },
    ];
    const result = await runScenario('uds', steps);
    figures.push(summary('UDS', result));
    assert.ok(result.minutes >= 30, `${result.minutes} minutes`);
    assert.ok(result.throttled > 0, 'LookupEvents was throttled');
    assert.ok(result.expected.size >= 20, `the world deployed (${result.expected.size} events)`);
    assert.ok(result.refusedReads > 0, 'the outage refused events');
    assert.deepEqual(result.tally.missing, []);
    // A SIGKILL at a random moment can fall between a datagram's send and its record (README: the
    // events of that one datagram are sent again); the crash points never can. Each random kill may
    // repeat at most one datagram's events (at most 10 here, as over UDP).
    const randomKills = steps.filter((step) => 'killAfterMs' in step).length;
    assert.ok(
      result.tally.duplicated.length <= randomKills * 10,
      `${result.tally.duplicated.length} repeats from ${randomKills} random kills`,
    );
    assert.deepEqual(
      result.tally.strays.map((e) => e.title),
      [],
    );
    assertEventsMatch(result);
  });

  test('UDP: random SIGKILLs and an Agent outage: no event lost; repeats only from a kill inside the 50 ms confirmation window', async () => {
    const rng = new SeededRandom(1617);
    const result = await runScenario('udp', [
      { killAfterMs: rng.int(2000, 4000) },
      { killAfterMs: rng.int(1500, 3500), outage: { afterMs: rng.int(1000, 2000), forMs: 12_000 } },
      { killAfterMs: rng.int(1500, 3500) },
      { killAfterMs: rng.int(1500, 3500) },
      { killAfterMs: rng.int(1500, 3500) },
    ]);
    figures.push(summary('UDP', result));
    assert.ok(result.minutes >= 30, `${result.minutes} minutes`);
    assert.equal(result.kernelDrops, 0, "the listener's receive buffer never overflowed (a loss UDP hides)");
    assert.deepEqual(result.tally.missing, []);
    assert.deepEqual(
      result.tally.strays.map((e) => e.title),
      [],
    );
    // Each repeat needs a kill: at most the events of the datagrams in flight at each of them.
    assert.ok(
      result.tally.duplicated.length <= result.kills * 10,
      `${result.tally.duplicated.length} repeats`,
    );
    assertEventsMatch(result);
  });
});
