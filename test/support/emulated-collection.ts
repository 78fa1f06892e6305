/**
 * The setup most collection tests share: an AWS emulator on a ManualClock, a real UDP DogStatsD listener,
 * a temporary conf.d pointing the checks at the emulator, and the daemon's run path (CollectionHarness)
 * sending to the listener.
 */
import { ManualClock } from '../../core/clock.js';
import { normalizeTag } from '../../core/check/normalize.js';
import type { CloudWatchModuleOptions } from '../../core/cloudwatch/cloudwatch-check.js';
import {
  AwsEmulator,
  BARE_WORLD,
  type AwsEmulatorOptions,
  type Series,
  type WorldOptions,
} from '../../emulator/index.js';
import { CollectionHarness } from './collection-harness.js';
import { sinkFor, TempWorkspace, testSettings } from './daemon-harness.js';
import { startUdpListener, type RestartableUdpListener } from './dogstatsd-listener.js';
import { createSilentLogger } from '../../core/log/logger.js';
import { DogStatsdSink, type DogStatsdSinkTuning } from '../../core/sink/dogstatsd-sink.js';
import { expectedPoints, metricTable, parseMetricLine, type ParsedMetricLine } from './world-truth.js';

export const MINUTE = 60_000;
/** A fixed, minute-aligned start so expected windows are easy to state. */
export const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** The emulator's bare world (one account, us-east-1, nothing in it), created 6 h before T0, plus `overrides`. */
export function bareWorld(overrides: WorldOptions = {}): WorldOptions {
  return { ...BARE_WORLD, createdAtMs: T0 - 6 * 3600_000, ...overrides };
}

/** A world series' identifying tags as they appear on the wire (dimensions, region). */
export const seriesIdentity = (series: Series): string[] => [
  ...series.dimensions.map((d) => normalizeTag(`${d.Name}:${d.Value}`)!),
  `region:${series.region}`,
];

/** Every Rekognition point of the world in [fromMs, toMs) (published by `visibleBy`, if given). */
export function rekognitionTruth(
  world: AwsEmulator['world'],
  fromMs: number,
  toMs: number,
  visibleBy?: number,
): Map<string, number> {
  return expectedPoints({
    world,
    series: world.series({ namespace: 'AWS/Rekognition' }),
    rows: metricTable('amazon_rekognition'),
    scopeOf: () => 'operation',
    identity: seriesIdentity,
    fromMs,
    toMs,
    visibleBy,
  });
}

/** The Lambda contract scope of a series, as the default instance collects it. */
export function lambdaScope(series: Series): string | undefined {
  const names = series.dimensions.map((d) => d.Name).join(',');
  return names === 'FunctionName' ? 'function' : names === '' ? 'account' : undefined;
}

export interface EmulatedCollection {
  readonly clock: ManualClock;
  readonly emulator: AwsEmulator;
  readonly endpoint: string;
  readonly listener: RestartableUdpListener;
  readonly harness: CollectionHarness;
  readonly workspace: TempWorkspace;
  /** Every metric line received so far, parsed. */
  lines(): ParsedMetricLine[];
  /** Waits until no datagram has arrived for a moment (loopback UDP is quick, not instant). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startEmulatedCollection(options: {
  world: WorldOptions;
  /** check name → the body of one instance (indented lines after `- endpoint_url: …`). */
  confs: Record<string, string>;
  emulator?: Omit<AwsEmulatorOptions, 'clock' | 'world'>;
  cloudWatch?: CloudWatchModuleOptions;
  /** Sink tuning (short flush timeouts for outage tests); default the daemon's. */
  sink?: Omit<Partial<DogStatsdSinkTuning>, 'logger'>;
  /** Daemon settings from the environment (DD_ENV, DD_TAGS …). */
  env?: Record<string, string>;
}): Promise<EmulatedCollection> {
  const clock = new ManualClock(T0);
  const emulator = new AwsEmulator({ ...options.emulator, clock, world: options.world });
  const endpoint = await emulator.start();
  const listener = await startUdpListener();
  const workspace = new TempWorkspace();
  for (const [check, body] of Object.entries(options.confs)) {
    workspace.writeConf(check, `instances:\n  - endpoint_url: ${endpoint}\n${body}`);
  }
  const settings = testSettings(workspace, {
    ...options.env,
    DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.port}`,
  });
  const sink = options.sink
    ? new DogStatsdSink({ ...settings.dogstatsd, logger: createSilentLogger(), ...options.sink })
    : sinkFor(settings);
  const harness = new CollectionHarness({
    settings,
    clock,
    sink,
    cloudWatch: options.cloudWatch,
  });
  await harness.start();
  return {
    clock,
    emulator,
    endpoint,
    listener,
    harness,
    workspace,
    lines: () =>
      listener
        .lines()
        .map(parseMetricLine)
        .filter((l): l is ParsedMetricLine => l !== undefined),
    async settle() {
      let previous = -1;
      while (listener.datagrams.length !== previous) {
        previous = listener.datagrams.length;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await harness.stop();
      await listener.close();
      await emulator.stop();
      workspace.cleanup();
    },
  };
}
