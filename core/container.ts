import 'reflect-metadata';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Container, ContainerModule } from 'inversify';
import { builtinChecksModule } from '../checks/index.js';
import { CheckDefinitionToken, type CheckDefinition } from './check/check.js';
import type { Clock } from './clock.js';
import type { Logger } from './log/logger.js';
import { cloudWatchModule, type CloudWatchModuleOptions } from './cloudwatch/cloudwatch-check.js';
import type { StatusRegistry } from './status/status-registry.js';
import { CursorStore } from './state/cursor-store.js';
import { processStateFiles } from './state/state-files.js';
import { ClockToken, CursorStoreToken, LoggerToken, StateDirToken, StatusRegistryToken } from './tokens.js';

export interface RootContainerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly status: StatusRegistry;
  readonly stateDir: string;
  /** Extra check modules (DOGWATCH_CHECK_MODULES, tests). */
  readonly modules?: readonly ContainerModule[];
  readonly cloudWatch?: CloudWatchModuleOptions;
}

/**
 * The process-wide container: shared services as singletons, and every check definition bound to the
 * CheckDefinitionToken contribution point. Instances get child containers (see InstanceRunner).
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
      }),
    )
    .onDeactivation((store) => store.close());
  container.load(
    cloudWatchModule({ logger: options.logger, ...options.cloudWatch }),
    builtinChecksModule,
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
