/**
 * What checks produce and sinks consume. By the time a sample reaches a sink its name and tags are
 * already validated and normalised by the runtime (see core/check/normalize.ts): sinks only encode.
 */
export type MetricType = 'gauge' | 'count';

/**
 * Tags that went through the runtime's one normaliser (core/check/normalize.ts): only it makes them,
 * so no tag from any source (configuration, environment, AWS, self-metrics) reaches a sink raw.
 */
export type NormalizedTags = readonly string[] & { readonly __normalizedTags: true };

export interface MetricSample {
  readonly kind: 'metric';
  readonly metric: string;
  readonly type: MetricType;
  readonly value: number;
  /** Unix seconds (DogStatsD `|T`). Absent: the Agent stamps it on receipt. */
  readonly timestamp?: number;
  readonly tags: NormalizedTags;
}

export type AlertType = 'info' | 'warning' | 'error' | 'success';

export interface EventSample {
  readonly kind: 'event';
  readonly title: string;
  readonly text: string;
  readonly timestamp?: number;
  readonly hostname?: string;
  readonly aggregationKey?: string;
  readonly priority?: 'normal' | 'low';
  readonly sourceTypeName?: string;
  readonly alertType?: AlertType;
  readonly tags: NormalizedTags;
}

/** DogStatsD service check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export const ServiceCheckStatus = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type ServiceCheckStatus = (typeof ServiceCheckStatus)[keyof typeof ServiceCheckStatus];

export interface ServiceCheckSample {
  readonly kind: 'service_check';
  readonly name: string;
  readonly status: ServiceCheckStatus;
  readonly timestamp?: number;
  readonly hostname?: string;
  readonly message?: string;
  readonly tags: NormalizedTags;
}

export type Sample = MetricSample | EventSample | ServiceCheckSample;
