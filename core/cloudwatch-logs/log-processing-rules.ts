import type { FilteredLogEvent } from './filter-log-events.js';
import { compileRulePattern, expandPlaceholder } from './log-rule-pattern.js';

export const LOG_PROCESSING_RULE_TYPES = [
  'exclude_at_match',
  'include_at_match',
  'mask_sequences',
  'multi_line',
] as const;
export type LogProcessingRuleType = (typeof LOG_PROCESSING_RULE_TYPES)[number];

/** One entry of an instance's `log_processing_rules`, as written (the Agent's schema). */
export interface LogProcessingRuleConfig {
  readonly type: LogProcessingRuleType;
  readonly name: string;
  readonly pattern: string;
  readonly replace_placeholder?: string;
}

/**
 * How long after a multi_line group's last event a continuation may come and still join it: the
 * Agent's default `logs_config.aggregation_timeout` (1,000 ms), here on the events' own timestamps.
 */
export const MULTI_LINE_AGGREGATION_MS = 1_000;

/** What a page becomes: each record's message and the event it is labelled as (the first it holds). */
export interface ProcessedEvent {
  readonly event: FilteredLogEvent;
  readonly message: string;
  /** CloudWatch events joined into this record by a multi_line rule (1 without one). */
  readonly events: number;
}

export interface ProcessedPage {
  readonly records: readonly ProcessedEvent[];
  /** Records dropped by exclude_at_match or include_at_match (each may hold several events). */
  readonly excluded: number;
  /**
   * Per event of the page, the index of the record it went into (-1: a rule dropped it): which events
   * a delivered prefix of the records covers.
   */
  readonly recordOfEvent: Int32Array;
}

/** A page sent as read: event i is record i. */
export function unprocessedPage(events: readonly FilteredLogEvent[]): ProcessedPage {
  const recordOfEvent = new Int32Array(events.length);
  for (let i = 0; i < events.length; i++) recordOfEvent[i] = i;
  return {
    records: events.map((event) => ({ event, message: event.message, events: 1 })),
    excluded: 0,
    recordOfEvent,
  };
}

type Step =
  | { readonly kind: 'exclude' | 'include'; readonly regex: RegExp }
  | { readonly kind: 'mask'; readonly regex: RegExp; readonly placeholder: string };

/**
 * An instance's `log_processing_rules`, with the Agent's semantics (pkg/logs/processor): the filter
 * and mask rules run in the order written, each on the result of the one before — exclude_at_match
 * drops a message its pattern matches anywhere in, include_at_match drops one it does not match (so
 * with several include rules a message must match each), mask_sequences replaces every match with
 * `replace_placeholder` (Go's `$1` / `${name}` template). A multi_line rule joins events first, as the
 * Agent's decoder does before its processor (see aggregate). One place applies them: the logs source,
 * to each page before it is sent, so an excluded event is read, counted as handled by the cursor and
 * never sent, and a masked value never reaches the sink.
 */
export class LogProcessingRules {
  private constructor(
    private readonly steps: readonly Step[],
    private readonly multiLineStart: RegExp | undefined,
  ) {}

  /** Rules already validated by the instance's schema; a pattern that does not compile throws. */
  static compile(rules: readonly LogProcessingRuleConfig[] | undefined): LogProcessingRules {
    const steps: Step[] = [];
    let multiLineStart: RegExp | undefined;
    for (const [index, rule] of (rules ?? []).entries()) {
      const compiled = compileRulePattern(rule.pattern, {
        anchored: rule.type === 'multi_line',
        global: rule.type === 'mask_sequences',
      });
      if ('error' in compiled)
        throw new Error(`log_processing_rules[${index}] (${rule.name}): ${compiled.error}`);
      const regex = compiled.regex;
      if (rule.type === 'multi_line') multiLineStart = regex;
      else if (rule.type === 'mask_sequences')
        steps.push({ kind: 'mask', regex, placeholder: rule.replace_placeholder ?? '' });
      else steps.push({ kind: rule.type === 'exclude_at_match' ? 'exclude' : 'include', regex });
    }
    return new LogProcessingRules(steps, multiLineStart);
  }

  get isEmpty(): boolean {
    return this.steps.length === 0 && this.multiLineStart === undefined;
  }

  /** The message after the filter and mask rules, or undefined when a rule drops it. */
  apply(message: string): string | undefined {
    let content = message;
    for (const step of this.steps) {
      if (step.kind === 'mask') {
        step.regex.lastIndex = 0;
        content = content.replace(step.regex, (...args: unknown[]) =>
          expandPlaceholder(step.placeholder, matchOf(args)),
        );
      } else if (step.regex.test(content) !== (step.kind === 'include')) return undefined;
    }
    return content;
  }

  /** A page's events as the records to send: joined by multi_line, then filtered and masked. */
  processPage(events: readonly FilteredLogEvent[]): ProcessedPage {
    if (this.isEmpty) return unprocessedPage(events);
    const records: ProcessedEvent[] = [];
    const recordOfEvent = new Int32Array(events.length);
    let excluded = 0;
    for (const group of this.aggregate(events)) {
      const message = this.apply(group.message);
      if (message === undefined) excluded++;
      else records.push({ event: group.event, message, events: group.indexes.length });
      for (const i of group.indexes) recordOfEvent[i] = message === undefined ? -1 : records.length - 1;
    }
    return { records, excluded, recordOfEvent };
  }

  /**
   * multi_line, for CloudWatch Logs: an event is already one message (a runtime's multi-line output
   * is usually one event), so the rule joins *events*, as the Agent's decoder joins lines — an event of
   * a log stream whose message does not match the start pattern is appended (after a newline) to the
   * stream's previous group, if that group's last event is at most MULTI_LINE_AGGREGATION_MS older;
   * otherwise it starts a group of its own, as the Agent sends what its aggregation timeout flushed.
   * Groups never span pages: each page is sent and recorded whole, so a continuation on the next page
   * is sent on its own. A group is labelled as its first event (time, ID).
   */
  private aggregate(
    events: readonly FilteredLogEvent[],
  ): { event: FilteredLogEvent; message: string; indexes: number[] }[] {
    const start = this.multiLineStart;
    if (start === undefined)
      return events.map((event, i) => ({ event, message: event.message, indexes: [i] }));
    const groups: { event: FilteredLogEvent; parts: string[]; lastMs: number; indexes: number[] }[] = [];
    const open = new Map<string, (typeof groups)[number]>();
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const current = open.get(event.logStreamName);
      const continues =
        current !== undefined &&
        !start.test(event.message) &&
        event.timestamp - current.lastMs <= MULTI_LINE_AGGREGATION_MS;
      if (continues) {
        current.parts.push(event.message);
        current.indexes.push(i);
        current.lastMs = Math.max(current.lastMs, event.timestamp);
        continue;
      }
      const group = { event, parts: [event.message], lastMs: event.timestamp, indexes: [i] };
      groups.push(group);
      open.set(event.logStreamName, group);
    }
    return groups.map((group) => ({
      event: group.event,
      message: group.parts
        .map((part, i) => (i < group.parts.length - 1 ? part.replace(/\r?\n$/, '') : part))
        .join('\n'),
      indexes: group.indexes,
    }));
  }
}

/** String.replace's callback arguments as a match: (match, ...groups, offset, input, groups?). */
function matchOf(args: unknown[]): RegExpMatchArray {
  const last = args[args.length - 1];
  const hasNamed = typeof last === 'object' && last !== null;
  const captures = args.slice(0, hasNamed ? -3 : -2) as string[];
  const match = Object.assign([...captures], {
    groups: hasNamed ? (last as Record<string, string>) : undefined,
  }) as unknown as RegExpMatchArray;
  return match;
}
