/**
 * Injected faults and per-operation request quotas.
 *
 * Quotas are token buckets on real time, per (quota, account, region), refilled at the published rate
 * with a one-second burst. Defaults follow AWS's published values where there are any:
 * GetMetricData 50/s, ListMetrics 25/s, GetMetricStatistics 400/s (CloudWatch quotas page), Lambda
 * control plane 15/s shared by all its read calls, CloudTrail LookupEvents 2/s, CloudWatch Logs FilterLogEvents 5/s; the Tagging API (5/s),
 * API Gateway management calls (10/s, shared by v1 and v2) and STS (100/s) are our choices.
 */
import type { ServiceName } from './call.js';
import { SeededRandom } from './prng.js';

export const DEFAULT_QUOTAS: Readonly<Record<string, number>> = {
  'cloudwatch:GetMetricData': 50,
  'cloudwatch:ListMetrics': 25,
  'cloudwatch:GetMetricStatistics': 400,
  lambda: 15,
  'tag:GetResources': 5,
  apigateway: 10,
  'cloudtrail:LookupEvents': 2,
  'logs:FilterLogEvents': 5,
  sts: 100,
};

/** The quota a call draws from. */
export function quotaName(service: ServiceName, operation: string): string {
  switch (service) {
    case 'cloudwatch':
      return `cloudwatch:${operation}`;
    case 'tagging':
      return `tag:${operation}`;
    case 'cloudtrail':
      return `cloudtrail:${operation}`;
    case 'logs':
      return `logs:${operation}`;
    case 'apigatewayv2':
      return 'apigateway';
    default:
      return service;
  }
}

export class QuotaBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly rates: Readonly<Record<string, number>>) {}

  /** Takes one token; false = the call is throttled. */
  take(quota: string, account: string, region: string, nowMs = Date.now()): boolean {
    const rate = this.rates[quota];
    if (rate === undefined || rate <= 0) return true;
    const key = `${quota}|${account}|${region}`;
    const bucket = this.buckets.get(key) ?? { tokens: rate, at: nowMs };
    bucket.tokens = Math.min(rate, bucket.tokens + ((nowMs - bucket.at) / 1000) * rate);
    bucket.at = nowMs;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/**
 * - `throttle`: the service's real throttling error.
 * - `internal-error`: HTTP 500 InternalFailure; `unavailable`: HTTP 503 ServiceUnavailable.
 * - `timeout`: hold the request `holdMs` then answer normally, or (no holdMs) until the client gives up.
 * - `reset`: destroy the socket without answering.
 */
export type FaultKind = 'throttle' | 'internal-error' | 'unavailable' | 'timeout' | 'reset';

/** What a fault rule sees of a call. */
export interface FaultTarget {
  readonly service: ServiceName;
  readonly operation: string;
  readonly region: string;
  readonly account: string;
  /** The emulator clock's now() when the call arrived. */
  readonly virtualNowMs: number;
}

export interface FaultRule {
  kind: FaultKind;
  /** Probability per matching call, drawn from the plan's seeded RNG. Default 1. */
  rate?: number;
  /** Decides per call instead of `rate`. */
  decide?: (target: FaultTarget) => boolean;
  /** `GetMetricData` or `cloudwatch:GetMetricData`. */
  operation?: string;
  service?: ServiceName;
  region?: string;
  account?: string;
  /** Window [from, to) on the emulator clock. */
  virtualWindow?: { fromMs: number; toMs: number };
  /** Window [from, to) on real time (Date.now()). */
  realWindow?: { fromMs: number; toMs: number };
  /** For `timeout`: how long to hold before answering normally. */
  holdMs?: number;
}

/** Rewrites a successful response body (fuzzing); return undefined to leave it. */
export type ResponseMutator = (target: FaultTarget, body: string) => string | undefined;

export interface FaultPlan {
  rules?: FaultRule[];
  /** Seed of the RNG behind `rate`. Default 1. */
  seed?: number;
  /** Added latency per call, on top of the emulator's `latencyMs`. */
  latencyMs?: number;
  mutateResponse?: ResponseMutator;
}

/** Every call to `region` fails: with 503s, or with connection resets. */
export function regionDown(region: string, mode: 'error' | 'reset' = 'error'): FaultRule {
  return { kind: mode === 'reset' ? 'reset' : 'unavailable', region };
}

export class FaultInjector {
  private rng: SeededRandom;
  constructor(readonly plan: FaultPlan = {}) {
    this.rng = new SeededRandom(plan.seed ?? 1);
  }

  /** The first rule that fires for this call, if any. */
  decide(target: FaultTarget, realNowMs = Date.now()): FaultRule | undefined {
    for (const rule of this.plan.rules ?? []) {
      if (rule.service && rule.service !== target.service) continue;
      if (
        rule.operation &&
        rule.operation !== target.operation &&
        rule.operation !== `${target.service}:${target.operation}`
      )
        continue;
      if (rule.region && rule.region !== target.region) continue;
      if (rule.account && rule.account !== target.account) continue;
      if (
        rule.virtualWindow &&
        (target.virtualNowMs < rule.virtualWindow.fromMs || target.virtualNowMs >= rule.virtualWindow.toMs)
      )
        continue;
      if (rule.realWindow && (realNowMs < rule.realWindow.fromMs || realNowMs >= rule.realWindow.toMs))
        continue;
      const fires = rule.decide ? rule.decide(target) : this.rng.next() < (rule.rate ?? 1);
      if (fires) return rule;
    }
    return undefined;
  }
}
