import { z } from 'zod';
import { describeFound } from '../messages/describe-found.js';
import { LOG_PROCESSING_RULE_TYPES } from './log-processing-rules.js';
import { compileRulePattern } from './log-rule-pattern.js';

const rule = z
  .strictObject({
    type: z
      .enum(LOG_PROCESSING_RULE_TYPES)
      .describe('exclude_at_match, include_at_match, mask_sequences or multi_line.'),
    name: z.string().min(1).describe('What the rule is for; named in errors.'),
    pattern: z
      .string()
      .min(1)
      .describe(
        "A regular expression (the Agent's RE2 syntax as far as JavaScript shares it; a leading (?i) works; " +
          'no lookaround or backreferences).',
      ),
    replace_placeholder: z
      .string()
      .optional()
      .describe('mask_sequences only: what replaces each match; $1 or ${1} is the first group.'),
  })
  .superRefine((value, context) => {
    const compiled = compileRulePattern(value.pattern, { anchored: value.type === 'multi_line' });
    if ('error' in compiled)
      context.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: `rule ${JSON.stringify(value.name)}: expected a regular expression, found ${describeFound(value.pattern)} (${compiled.error})`,
        params: { hint: 'correct the pattern (Go RE2 syntax, as the Agent reads it)' },
      });
    if (value.type === 'mask_sequences' && value.replace_placeholder === undefined)
      context.addIssue({
        code: 'custom',
        path: ['replace_placeholder'],
        message: `rule ${JSON.stringify(value.name)}: a mask_sequences rule needs replace_placeholder, found nothing`,
        params: { hint: 'add replace_placeholder: "[masked]" (the text that replaces each match)' },
      });
  });

/**
 * The `log_processing_rules` instance option of the checks that collect logs, with the Agent's schema
 * and validation: every rule has a name, a known type and a pattern that compiles; mask_sequences have a
 * replace_placeholder; at most one multi_line rule (the Agent keeps only one per source).
 */
export const logProcessingRulesOption = z
  .array(rule)
  .optional()
  .superRefine((rules, context) => {
    const multiLine = (rules ?? []).flatMap((r, index) => (r.type === 'multi_line' ? [index] : []));
    if (multiLine.length > 1)
      context.addIssue({
        code: 'custom',
        path: [multiLine[1]!],
        message: `expected at most one multi_line rule, found ${multiLine.length} (at ${multiLine.join(', ')})`,
        params: { hint: 'keep one multi_line rule: its pattern is where a new log message starts' },
      });
  })
  .describe(
    "The Datadog Agent's log_processing_rules, applied in order to each log line before it is sent " +
      '(collect_logs): exclude_at_match drops a line its pattern matches; include_at_match keeps only ' +
      'lines it matches (every include rule must match); mask_sequences replaces each match with ' +
      'replace_placeholder; multi_line joins consecutive events of a log stream that do not match its ' +
      'pattern (the start of a message) into the one before. An excluded line counts as read: it is ' +
      'never sent, and never read again.',
  )
  .meta({
    examples: [
      [
        { type: 'exclude_at_match', name: 'no_health_checks', pattern: 'GET /health' },
        {
          type: 'mask_sequences',
          name: 'mask_passwords',
          pattern: 'password=\\S+',
          replace_placeholder: 'password=[masked]',
        },
      ],
    ],
  });

/**
 * For the instance schema (`.superRefine(rulesNeedCollectLogs)`): log_processing_rules without
 * collect_logs would do nothing, so they are refused where they are written.
 */
export function rulesNeedCollectLogs(
  config: { readonly collect_logs?: boolean; readonly log_processing_rules?: readonly unknown[] | undefined },
  context: z.RefinementCtx,
): void {
  if (config.log_processing_rules !== undefined && config.collect_logs !== true)
    context.addIssue({
      code: 'custom',
      path: ['log_processing_rules'],
      message:
        'log_processing_rules apply to the log lines collect_logs sends, and collect_logs is off, found rules ' +
        'that would do nothing',
      params: { hint: 'add `collect_logs: true` to this instance, or remove log_processing_rules' },
    });
}
