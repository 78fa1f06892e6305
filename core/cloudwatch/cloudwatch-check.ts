import { ContainerModule, decorate, inject, injectable, type Newable } from 'inversify';
import {
  type Check,
  type CheckDefinition,
  CheckDefinitionToken,
  type CheckRunContext,
  type InstanceInfo,
  type SelfMetrics,
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
import { AwsApiRegistry, awsApiDeclarations } from '../aws/aws-api-registry.js';
import type { CursorStore } from '../state/cursor-store.js';
import { ClockToken, CursorStoreToken, LoggerToken, SelfTelemetryToken } from '../tokens.js';
import { ServerTime } from '../aws/server-time.js';
import { CloudWatchEngine, type EngineServices } from './cloudwatch-engine.js';
import type { CloudWatchInstanceOptions } from './engine-options.js';
import type { CloudWatchIntegration } from './integration.js';
import { SharedMetricRequests } from './shared-metric-requests.js';
import type { TrailEventSelection } from '../cloudtrail/trail-event-selection.js';
import { TrailEventSource } from '../cloudtrail/trail-event-source.js';
import { LogGroupSource } from '../cloudwatch-logs/log-group-source.js';

export const AwsClientFactoryToken = Symbol.for('dogwatch.AwsClientFactory');
export const EngineServicesToken = Symbol.for('dogwatch.EngineServices');

export interface CloudWatchModuleOptions {
  /** Requests per second by quota name (`cloudwatch:GetMetricData`), replacing the declared rates. */
  readonly quotas?: Readonly<Record<string, number>>;
  readonly client?: Partial<AwsClientOptions>;
  /** The process's root logger: at debug level, every AWS call is logged (shared by every instance). */
  readonly logger?: Logger;
  /** Fault injection for the restart tests (see core/fault-injection.ts). */
  readonly crashPoint?: (name: string) => void;
  /** LookupEvents pages per read of the deployment events source (default 200; tests make it small). */
  readonly maxPagesPerRead?: number;
}

/** Process-wide AWS services: one client cache and one set of token buckets for every instance. */
export function cloudWatchModule(options: CloudWatchModuleOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<AwsClientFactory>(AwsClientFactoryToken)
      .toDynamicValue(
        (context) =>
          new AwsClientFactory(
            new AwsApiRegistry(
              awsApiDeclarations(context.getAll<CheckDefinition>(CheckDefinitionToken, { optional: true })),
              options.quotas,
            ),
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
        metricRequests: new SharedMetricRequests(),
        telemetry: context.get<SelfMetrics>(SelfTelemetryToken, { optional: true }),
        crashPoint: options.crashPoint,
        maxPagesPerRead: options.maxPagesPerRead,
      }))
      .inSingletonScope();
  });
}

/** Sources a CloudWatch check runs beside its metrics. */
export interface CloudWatchCheckSources<R> {
  /**
   * CloudTrail management events, each sent as a Datadog event when the instance enables it; joined with
   * the inventory the metrics loaded (`R`), so that they carry the resources' tags.
   */
  readonly trailEvents?: readonly TrailEventSelection<R>[];
  /**
   * Whether the instance collects the logs of its resources (the integration's `logGroups`), read with
   * FilterLogEvents and sent to the Agent's logs listener.
   */
  readonly logs?: (config: Readonly<Record<string, unknown>>) => boolean;
}

/**
 * The check class of a CloudWatch integration: the metrics engine, then the event sources the instance
 * enabled. An integration's definition says `checkClass: cloudWatchCheckClass(myIntegration)`.
 */
export function cloudWatchCheckClass<R>(
  integration: CloudWatchIntegration<R>,
  sources: CloudWatchCheckSources<R> = {},
): Newable<Check> {
  class CloudWatchCheck implements Check {
    readonly engine: CloudWatchEngine<R>;
    readonly events: readonly TrailEventSource<R>[];
    readonly logs: readonly LogGroupSource[];
    constructor(
      services: EngineServices,
      config: CloudWatchInstanceOptions & Record<string, unknown>,
      info: InstanceInfo,
      logger: Logger,
    ) {
      this.engine = new CloudWatchEngine(integration, config, info, logger, services);
      this.events = (sources.trailEvents ?? [])
        .filter((selection) => selection.enabled(config))
        .map(
          (selection) =>
            new TrailEventSource(
              selection,
              config,
              info,
              { ...services, inventories: () => this.engine.loadedInventories() },
              logger,
            ),
        );
      const engine = this.engine;
      this.logs =
        integration.logGroups && sources.logs?.(config)
          ? [
              new LogGroupSource(
                (region, accountId, run) => engine.logGroups(region, accountId, run),
                config,
                info,
                services,
                logger,
              ),
            ]
          : [];
    }
    /** Metrics, then events, then logs: a failure of one does not stop the others; the run fails with every reason. */
    async run(context: CheckRunContext): Promise<void> {
      const failures: unknown[] = [];
      for (const source of [this.engine, ...this.events, ...this.logs]) {
        try {
          await source.run(context);
        } catch (error) {
          if (context.signal.aborted) throw error;
          failures.push(error);
        }
      }
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1)
        throw new Error(failures.map((e) => (e instanceof Error ? e.message : String(e))).join('; '));
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
