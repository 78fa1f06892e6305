import { ContainerModule, decorate, inject, injectable, type Newable } from 'inversify';
import {
  type Check,
  type CheckRunContext,
  type InstanceInfo,
  InstanceConfigToken,
  InstanceInfoToken,
} from '../check/check.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import {
  AwsClientFactory,
  DEFAULT_AWS_CLIENT_OPTIONS,
  type AwsClientOptions,
} from '../aws/aws-client-factory.js';
import { ApiRateLimiter, DEFAULT_API_QUOTAS } from '../aws/token-bucket.js';
import type { SelfTelemetry } from '../runtime/self-telemetry.js';
import type { CursorStore } from '../state/cursor-store.js';
import { ClockToken, CursorStoreToken, LoggerToken, SelfTelemetryToken } from '../tokens.js';
import { ServerTime } from '../aws/server-time.js';
import { CloudWatchEngine, type EngineServices } from './cloudwatch-engine.js';
import type { CloudWatchInstanceOptions } from './engine-options.js';
import type { CloudWatchIntegration } from './integration.js';

export const AwsClientFactoryToken = Symbol.for('dogwatch.AwsClientFactory');
export const EngineServicesToken = Symbol.for('dogwatch.EngineServices');

export interface CloudWatchModuleOptions {
  /** Requests per second per (account, region, API); merged over the published defaults. */
  readonly quotas?: Readonly<Record<string, number>>;
  readonly client?: Partial<AwsClientOptions>;
  /** The process's root logger: at debug level, every AWS call is logged (shared by every instance). */
  readonly logger?: Logger;
}

/** Process-wide AWS services: one client cache and one set of token buckets for every instance. */
export function cloudWatchModule(options: CloudWatchModuleOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<AwsClientFactory>(AwsClientFactoryToken)
      .toDynamicValue(
        (context) =>
          new AwsClientFactory(
            new ApiRateLimiter({ ...DEFAULT_API_QUOTAS, ...options.quotas }),
            { ...DEFAULT_AWS_CLIENT_OPTIONS, ...options.client },
            options.logger,
            new ServerTime(context.get<Clock>(ClockToken)),
          ),
      )
      .inSingletonScope()
      .onDeactivation((factory) => factory.destroy());
    bind(EngineServicesToken)
      .toDynamicValue((context): EngineServices => ({
        clients: context.get<AwsClientFactory>(AwsClientFactoryToken),
        clock: context.get<Clock>(ClockToken),
        cursors: context.get<CursorStore>(CursorStoreToken),
        telemetry: context.get<SelfTelemetry>(SelfTelemetryToken, { optional: true }),
      }))
      .inSingletonScope();
  });
}

/**
 * The check class of a CloudWatch integration: all of it is the engine. An integration's definition
 * says `checkClass: cloudWatchCheckClass(myIntegration)`.
 */
export function cloudWatchCheckClass<R>(integration: CloudWatchIntegration<R>): Newable<Check> {
  class CloudWatchCheck implements Check {
    readonly engine: CloudWatchEngine<R>;
    constructor(
      services: EngineServices,
      config: CloudWatchInstanceOptions & Record<string, unknown>,
      info: InstanceInfo,
      logger: Logger,
    ) {
      this.engine = new CloudWatchEngine(integration, config, info, logger, services);
    }
    async run(context: CheckRunContext): Promise<void> {
      await this.engine.run(context);
    }
    dispose(): Promise<void> {
      return this.engine.dispose();
    }
  }
  // Explicit decoration (not @-syntax on a class expression): works with any transpiler.
  decorate(injectable(), CloudWatchCheck);
  decorate(inject(EngineServicesToken), CloudWatchCheck, 0);
  decorate(inject(InstanceConfigToken), CloudWatchCheck, 1);
  decorate(inject(InstanceInfoToken), CloudWatchCheck, 2);
  decorate(inject(LoggerToken), CloudWatchCheck, 3);
  return CloudWatchCheck;
}
