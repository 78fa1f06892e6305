import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerModule } from 'inversify';
import { builtinChecksModule } from '../../checks/index.js';
import type { Clock } from '../../core/clock.js';
import { SystemClock } from '../../core/clock.js';
import type { CloudWatchModuleOptions } from '../../core/cloudwatch/cloudwatch-check.js';
import { loadDaemonSettings, type DaemonSettings } from '../../core/config/daemon-settings.js';
import { createSilentLogger } from '../../core/log/logger.js';
import { Daemon } from '../../core/runtime/daemon.js';
import { DogStatsdSink } from '../../core/sink/dogstatsd-sink.js';
import type { Sink } from '../../core/sink/sink.js';

/** A temporary folder with a conf.d/ and a state dir, removed by `cleanup`. */
export class TempWorkspace {
  readonly root = mkdtempSync(join(tmpdir(), 'dogwatch-test-'));
  readonly confd = join(this.root, 'conf.d');
  readonly stateDir = join(this.root, 'state');

  constructor() {
    mkdirSync(this.confd, { recursive: true });
  }

  /** Writes conf.d/<check>.d/<file>. */
  writeConf(check: string, text: string, file = 'conf.yaml'): string {
    const dir = join(this.confd, `${check}.d`);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, file);
    writeFileSync(path, text);
    return path;
  }

  path(name: string): string {
    return join(this.root, name);
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function testSettings(workspace: TempWorkspace, env: Record<string, string> = {}): DaemonSettings {
  return loadDaemonSettings({
    flags: { confd: workspace.confd, stateDir: workspace.stateDir, statusAddr: 'off' },
    env: { DOGWATCH_LOG_FORMAT: 'text', ...env },
    readFile: () => undefined,
  });
}

export function sinkFor(settings: DaemonSettings): DogStatsdSink {
  return new DogStatsdSink({ ...settings.dogstatsd, logger: createSilentLogger() });
}

/** A daemon as `dogwatch run` composes it: the built-in checks, then `modules` (a test's own checks). */
export function startDaemon(options: {
  settings: DaemonSettings;
  sink?: Sink;
  modules?: readonly ContainerModule[];
  clock?: Clock;
  cloudWatch?: CloudWatchModuleOptions;
  env?: Record<string, string | undefined>;
}): Daemon {
  return new Daemon({
    settings: options.settings,
    env: options.env ?? {},
    logger: createSilentLogger(),
    clock: options.clock ?? new SystemClock(),
    sink: options.sink ?? sinkFor(options.settings),
    modules: [builtinChecksModule, ...(options.modules ?? [])],
    cloudWatch: options.cloudWatch,
    maxStartJitterMs: 50,
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
