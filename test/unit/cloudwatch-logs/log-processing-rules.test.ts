/**
 * The rule engine of `log_processing_rules`, held to the Agent's semantics with the examples of
 * Datadog's "Advanced log collection" page (filter, scrub, multi-line) and the Agent's processor
 * (rules in order, each on the result of the one before; every include rule must match; Go's
 * `ReplaceAll` template for placeholders; a multi_line pattern anchored at the start).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FilteredLogEvent } from '../../../core/cloudwatch-logs/filter-log-events.js';
import {
  type LogProcessingRuleConfig,
  LogProcessingRules,
  MULTI_LINE_AGGREGATION_MS,
} from '../../../core/cloudwatch-logs/log-processing-rules.js';
import { compileRulePattern, expandPlaceholder } from '../../../core/cloudwatch-logs/log-rule-pattern.js';

const rules = (...list: LogProcessingRuleConfig[]) => LogProcessingRules.compile(list);

let n = 0;
function event(message: string, timestamp: number, logStreamName = 'stream-a'): FilteredLogEvent {
  return { eventId: String(n++).padStart(8, '0'), timestamp, logStreamName, message };
}

describe('exclude_at_match, include_at_match, mask_sequences', () => {
  test("the docs' exclude_at_match example drops the lines with a Datadog e-mail address, keeps the rest", () => {
    const engine = rules({
      type: 'exclude_at_match',
      name: 'exclude_datadoghq_users',
      pattern: '\\w+@datadoghq.com',
    });
    assert.equal(engine.apply('login by jane@datadoghq.com'), undefined);
    assert.equal(engine.apply('login by jane@example.com'), 'login by jane@example.com');
  });

  test("the docs' include_at_match example keeps only matching lines; several include rules must each match", () => {
    const one = rules({
      type: 'include_at_match',
      name: 'include_datadoghq_users',
      pattern: '\\w+@datadoghq.com',
    });
    assert.equal(one.apply('login by jane@datadoghq.com'), 'login by jane@datadoghq.com');
    assert.equal(one.apply('login by jane@example.com'), undefined);
    // The Agent drops a message at the first include rule it does not match: the rules are an AND.
    const both = rules(
      { type: 'include_at_match', name: 'errors', pattern: 'ERROR' },
      { type: 'include_at_match', name: 'payments', pattern: 'payment' },
    );
    assert.equal(both.apply('ERROR payment declined'), 'ERROR payment declined');
    assert.equal(both.apply('ERROR cart empty'), undefined);
    assert.equal(both.apply('INFO payment ok'), undefined);
  });

  test("mask_sequences replaces every match; the docs' ${1} example keeps the first group", () => {
    const engine = rules(
      {
        type: 'mask_sequences',
        name: 'mask_credit_cards',
        pattern: '(?:4[0-9]{12}(?:[0-9]{3})?|[25][1-7][0-9]{14})',
        replace_placeholder: '[masked_credit_card]',
      },
      {
        type: 'mask_sequences',
        name: 'mask_user_email',
        pattern: '(\\w+)@datadoghq.com',
        replace_placeholder: '${1}@[masked_domain]',
      },
    );
    assert.equal(
      engine.apply(
        'cards 4111111111111111 and 5500000000000004 paid by jane@datadoghq.com, bob@datadoghq.com',
      ),
      'cards [masked_credit_card] and [masked_credit_card] paid by jane@[masked_domain], bob@[masked_domain]',
    );
  });

  test("a placeholder is Go's template: $1 and ${1}, named groups, $$; $1x is the (absent) group 1x", () => {
    const match = /(?<key>\w+)=(\w+)/u.exec('password=hunter2')!;
    assert.equal(expandPlaceholder('$1=[masked]', match), 'password=[masked]');
    assert.equal(expandPlaceholder('${key}=${2}', match), 'password=hunter2');
    assert.equal(expandPlaceholder('$key $$ $ $9', match), 'password $ $ ');
    // JavaScript's own replace would write "passwordx"; Go reads the name "1x", which matches nothing.
    assert.equal(expandPlaceholder('$1x', match), '');
    assert.equal(expandPlaceholder('${1}x', match), 'passwordx');
  });

  test('rules run in order, each on the result of the one before', () => {
    const mask = {
      type: 'mask_sequences',
      name: 'mask',
      pattern: 'password=\\S+',
      replace_placeholder: 'password=[masked]',
    } as const;
    const exclude = { type: 'exclude_at_match', name: 'drop_secrets', pattern: 'password=hunter2' } as const;
    // Mask first: the exclude rule no longer sees the secret, so the (masked) line is sent.
    assert.equal(rules(mask, exclude).apply('login password=hunter2'), 'login password=[masked]');
    // Exclude first: the line is dropped before it is masked.
    assert.equal(rules(exclude, mask).apply('login password=hunter2'), undefined);
  });

  test('a leading Go flag group (?i) becomes a flag; what RE2 refuses is refused', () => {
    const engine = rules({ type: 'exclude_at_match', name: 'health', pattern: '(?i)get /health' });
    assert.equal(engine.apply('GET /HEALTH 200'), undefined);
    for (const [pattern, reason] of [
      ['(?<=user=)\\w+', /no lookahead or lookbehind/],
      ['(a)\\1', /no backreferences/],
      ['a(?i:b)', /a flag group inside the pattern/],
      ['(?U)a+', /ungreedy/],
      ['(unclosed', /Unterminated group/],
      // RE2-only syntax is refused, never read as something else (without `u`, \z would match "z").
      ['end\\z', /Invalid escape/],
      ['[[:alpha:]]+', /Lone quantifier brackets/],
      ['(?P<user>\\w+)', /Invalid group/],
    ] as const) {
      const compiled = compileRulePattern(pattern);
      assert.ok('error' in compiled, pattern);
      assert.match(compiled.error, reason, pattern);
    }
    // Escaped characters are text, not groups: these compile.
    for (const pattern of ['\\(\\?=', 'a\\\\1', '(?:x|y)', '(?<name>\\d+)'])
      assert.ok('regex' in compileRulePattern(pattern), pattern);
  });
});

describe('multi_line, on CloudWatch Logs events', () => {
  const multiLine = rules({
    type: 'multi_line',
    name: 'new_log_start_with_date',
    pattern: '\\d{4}-(0?[1-9]|1[012])-(0?[1-9]|[12][0-9]|3[01])',
  });

  test("the docs' Java stack trace, one event per line, becomes one record labelled as its first event", () => {
    const t = 1_000_000;
    const page = [
      event('2018-01-03T09:24:24.983Z UTC Exception in thread "main" java.lang.NullPointerException\n', t),
      event('        at com.example.myproject.Book.getTitle(Book.java:16)\n', t + 1),
      event('        at com.example.myproject.Author.getBookTitles(Author.java:25)\n', t + 2),
      event('2018-01-03T09:26:24.365Z UTC starting upload of /my/file.gz\n', t + 3),
    ];
    const { records, excluded } = multiLine.processPage(page);
    assert.equal(excluded, 0);
    assert.equal(records.length, 2);
    assert.equal(records[0]!.event, page[0]);
    assert.equal(records[0]!.events, 3);
    assert.equal(
      records[0]!.message,
      '2018-01-03T09:24:24.983Z UTC Exception in thread "main" java.lang.NullPointerException\n' +
        '        at com.example.myproject.Book.getTitle(Book.java:16)\n' +
        '        at com.example.myproject.Author.getBookTitles(Author.java:25)\n',
    );
    assert.equal(records[1]!.message, page[3]!.message);
  });

  test('streams are joined apart; a continuation later than the aggregation timeout starts its own record', () => {
    const t = 2_000_000;
    const page = [
      event('2024-05-01 start A', t, 'a'),
      event('2024-05-01 start B', t, 'b'),
      event('  more A', t + 5, 'a'),
      event('  more B', t + 6, 'b'),
      event('  late A', t + 5 + MULTI_LINE_AGGREGATION_MS + 1, 'a'),
      event('  later A', t + 5 + MULTI_LINE_AGGREGATION_MS + 2, 'a'),
    ];
    const messages = multiLine.processPage(page).records.map((r) => r.message);
    assert.deepEqual(messages, [
      '2024-05-01 start A\n  more A',
      '2024-05-01 start B\n  more B',
      '  late A\n  later A',
    ]);
  });

  test('the start pattern is anchored, as the Agent anchors it: a date inside a line is a continuation', () => {
    const page = [event('2024-05-01 start', 10), event('retry of 2024-05-01 job', 11)];
    assert.equal(multiLine.processPage(page).records.length, 1);
  });

  test('filters and masks see the joined message; every event of the page is accounted for', () => {
    const engine = rules(
      { type: 'multi_line', name: 'start', pattern: '\\[' },
      { type: 'exclude_at_match', name: 'no_debug', pattern: '^\\[DEBUG\\]' },
      { type: 'mask_sequences', name: 'token', pattern: 'token=\\w+', replace_placeholder: 'token=***' },
    );
    const page = [
      event('[DEBUG] cache', 1),
      event('  token=abc', 2),
      event('[ERROR] failed', 3),
      event('  token=def', 4),
    ];
    const { records, excluded } = engine.processPage(page);
    assert.equal(excluded, 1, 'the DEBUG record, with its continuation');
    assert.deepEqual(
      records.map((r) => r.message),
      ['[ERROR] failed\n  token=***'],
    );
    assert.equal(records.reduce((sum, r) => sum + r.events, 0) + 2, page.length);
  });

  test('no rules: the page goes through untouched', () => {
    const page = [event('a', 1), event('b', 2)];
    const { records } = LogProcessingRules.compile(undefined).processPage(page);
    assert.deepEqual(
      records.map((r) => r.event),
      page,
    );
  });
});
