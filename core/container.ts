import 'reflect-metadata';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Container, ContainerModule } from 'inversify';
import { CheckDefinitionToken, type CheckDefinition } from './check/check.js';
import type { Clock } from './clock.js';
import type { Logger } from './log/logger.js';
import { cloudWatchModule, type CloudWatchModuleOptions } from './cloudwatch/cloudwatch-check.js';
import type { StatusRegistry } from './status/status-registry.js';
import { CursorStore } from './state/cursor-store.js';
import { processStateFiles } from './state/state-files.js';
import { crashPoint } from './fault-injection.js';
import { ClockToken, CursorStoreToken, LoggerToken, StateDirToken, StatusRegistryToken } from './tokens.js';

export interface RootContainerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly status: StatusRegistry;
  readonly stateDir: string;
  /**
   * The check modules, each binding CheckDefinitionToken: the composition root's built-in checks
   * (app/main.ts), those DOGWATCH_CHECK_MODULES names, a test's own. The core binds none itself, so a
   * container given none knows no check.
   */
  readonly modules?: readonly ContainerModule[];
  readonly cloudWatch?: CloudWatchModuleOptions;
}

/**
 * The process-wide container: shared services as singletons, and the check definitions of `modules`
 * bound to the CheckDefinitionToken contribution point. Instances get child containers (see InstanceRunner).
 */
export function createRootContainer(options: RootContainerOptions): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind(ClockToken).toConstantValue(options.clock);
  container.bind(LoggerToken).toConstantValue(options.logger);
  container.bind(StatusRegistryToken).toConstantValue(options.status);
  container.bind(StateDirToken).toConstantValue(options.stateDir);
  container
    .bind<CursorStore>(CursorStoreToken)
    .toConstantValue(
      new CursorStore({
        stateDir: options.stateDir,
        logger: options.logger,
        clock: options.clock,
        files: processStateFiles(),
        crashPoint,
      }),
    )
    .onDeactivation((store) => store.close());
  container.load(
    cloudWatchModule({ logger: options.logger, crashPoint, ...options.cloudWatch }),
    ...(options.modules ?? []),
  );
  return container;
}

export function checkDefinitions(container: Container): CheckDefinition[] {
  return container.isBound(CheckDefinitionToken)
    ? container.getAll<CheckDefinition>(CheckDefinitionToken)
    : [];
}

/**
 * Loads the composition root's checks (the built-in ones, passed in by app/main.ts so that the core
 * never names an integration). Called only by the commands that run or describe checks: `--version`,
 * `health` and `status` never load them.
 */
export type CheckModuleLoader = () => Promise<ContainerModule>;

/** The check modules of a CLI process: the composition root's, then those `spec` (DOGWATCH_CHECK_MODULES) names. */
export async function processCheckModules(
  loadChecks: CheckModuleLoader,
  spec: string | undefined,
): Promise<ContainerModule[]> {
  return [await loadChecks(), ...(await loadCheckModules(spec))];
}

/**
 * Loads check modules named in DOGWATCH_CHECK_MODULES (comma-separated paths or package names). Each
 * must export a ContainerModule as `default` or `checkModule`. This is how custom checks plug in
 * without forking dogwatch.
 */
export async function loadCheckModules(spec: string | undefined): Promise<ContainerModule[]> {
  if (!spec) return [];
  const modules: ContainerModule[] = [];
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const target = entry.startsWith('.') || isAbsolute(entry) ? pathToFileURL(resolve(entry)).href : entry;
    const loaded = (await import(target)) as { default?: unknown; checkModule?: unknown };
    const candidate = loaded.checkModule ?? loaded.default;
    // Duck-typed: a module built against another copy of inversify is still a module.
    if (!candidate || typeof (candidate as { load?: unknown }).load !== 'function') {
      throw new Error(
        `DOGWATCH_CHECK_MODULES: ${entry} does not export a ContainerModule as "checkModule" or default`,
      );
    }
    modules.push(candidate as ContainerModule);
  }
  return modules;
}
