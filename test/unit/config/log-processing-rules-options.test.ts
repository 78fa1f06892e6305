/**
 * `log_processing_rules` is checked where it is written: a pattern that does not compile names the file,
 * the line, the rule's index and name and the regex's error; an unknown type gets a did-you-mean; a
 * mask_sequences rule without replace_placeholder and a second multi_line rule are refused with a fix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Container } from 'inversify';
import { builtinChecksModule } from '../../../checks/index.js';
import type { CheckDefinition } from '../../../core/check/check.js';
import type { ConfigProblem } from '../../../core/config/config-problem.js';
import { loadConfd } from '../../../core/config/confd-loader.js';
import { checkDefinitions, createRootContainer } from '../../../core/container.js';
import { ManualClock } from '../../../core/clock.js';
import { createSilentLogger } from '../../../core/log/logger.js';
import { StatusRegistry } from '../../../core/status/status-registry.js';
import { removeTempDirs, writeConfd } from './fake-checks.js';

let container: Container;
let definitions: CheckDefinition[];
before(() => {
  container = createRootContainer({
    clock: new ManualClock(0),
    logger: createSilentLogger(),
    status: new StatusRegistry(),
    stateDir: '/nonexistent',
    modules: [builtinChecksModule],
  });
  definitions = checkDefinitions(container);
});
after(async () => {
  await container.unbindAllAsync();
  await removeTempDirs();
});

async function load(check: string, rules: string, collectLogs = true) {
  const confdDir = await writeConfd({
    [`${check}.d/conf.yaml`]:
      `init_config:\ninstances:\n  - regions: [us-east-1]\n    collect_logs: ${collectLogs}\n` +
      `    log_processing_rules:\n${rules}`,
  });
  return loadConfd({ confdDir, definitions, env: {}, displayRoot: confdDir });
}
const problems = async (rules: string, check = 'amazon_lambda'): Promise<ConfigProblem[]> => [
  ...(await load(check, rules)).problems,
];

describe('log_processing_rules at config load', () => {
  test("the Agent's rules load on both checks that collect logs", async () => {
    const rules =
      '      - {type: exclude_at_match, name: no_health, pattern: "GET /health"}\n' +
      '      - {type: include_at_match, name: only_errors, pattern: "(?i)error"}\n' +
      '      - {type: mask_sequences, name: pw, pattern: "(password=)\\\\S+", replace_placeholder: "${1}[masked]"}\n' +
      '      - {type: multi_line, name: start, pattern: "\\\\d{4}-\\\\d{2}-\\\\d{2}"}\n';
    for (const check of ['amazon_lambda', 'amazon_api_gateway']) {
      const loaded = await load(check, rules);
      assert.deepEqual(loaded.problems.map(String), [], check);
      assert.equal(loaded.instances.length, 1, check);
      // conf.d's ${NAME} substitution needs a letter first: the Agent's ${1} reaches the rule as written.
      const loadedRules = loaded.instances[0]!.config['log_processing_rules'] as {
        replace_placeholder?: string;
      }[];
      assert.equal(loadedRules[2]!.replace_placeholder, '${1}[masked]', check);
    }
  });

  test("a bad regex names the file, the line, the rule's index and name, and the regex's error", async () => {
    const [problem, ...rest] = await problems(
      '      - {type: exclude_at_match, name: fine, pattern: "ok"}\n' +
        '      - {type: mask_sequences, name: mask_ids, pattern: "id=(\\\\d+", replace_placeholder: x}\n',
    );
    assert.equal(rest.length, 0, String(rest));
    assert.equal(problem!.keyPath, 'instances[0].log_processing_rules[1].pattern');
    assert.match(problem!.file, /amazon_lambda\.d\/conf\.yaml$/);
    assert.equal(problem!.line, 7);
    assert.match(
      problem!.message,
      /rule "mask_ids": expected a regular expression, found "id=\(\\\\d\+" \(Unterminated group\)/,
    );
    assert.match(String(problem), /conf\.yaml:7: instances\[0\]\.log_processing_rules\[1\]\.pattern/);
  });

  test('what RE2 would refuse (lookbehind) is refused, saying why', async () => {
    const [problem] = await problems(
      '      - {type: exclude_at_match, name: lb, pattern: "(?<=user=)bob"}\n',
    );
    assert.match(
      problem!.message,
      /rule "lb": .*RE2 \(the Agent's regular expressions\) has no lookahead or lookbehind/,
    );
  });

  test('an unknown type gets a did-you-mean', async () => {
    const [problem] = await problems('      - {type: exclude_at_mach, name: x, pattern: y}\n');
    assert.equal(problem!.keyPath, 'instances[0].log_processing_rules[0].type');
    assert.match(problem!.message, /found "exclude_at_mach" \(did you mean "exclude_at_match"\?\)/);
    const [unknownKey] = await problems('      - {type: exclude_at_match, name: x, patern: y}\n');
    assert.match(String(unknownKey), /log_processing_rules\[0\]/);
  });

  test('mask_sequences needs replace_placeholder; one multi_line rule at most; a name is required', async () => {
    const [mask] = await problems('      - {type: mask_sequences, name: m, pattern: secret}\n');
    assert.equal(mask!.keyPath, 'instances[0].log_processing_rules[0].replace_placeholder');
    assert.match(mask!.message, /rule "m": a mask_sequences rule needs replace_placeholder/);
    const [twice] = await problems(
      '      - {type: multi_line, name: a, pattern: x}\n      - {type: multi_line, name: b, pattern: y}\n',
    );
    assert.equal(twice!.keyPath, 'instances[0].log_processing_rules[1]');
    assert.match(twice!.message, /at most one multi_line rule, found 2/);
    const [unnamed] = await problems('      - {type: exclude_at_match, pattern: y}\n');
    assert.equal(unnamed!.keyPath, 'instances[0].log_processing_rules[0].name');
  });

  test('rules without collect_logs would do nothing: refused, on both checks', async () => {
    for (const check of ['amazon_lambda', 'amazon_api_gateway']) {
      const loaded = await load(check, '      - {type: exclude_at_match, name: x, pattern: y}\n', false);
      const [problem, ...rest] = loaded.problems;
      assert.equal(rest.length, 0, String(rest));
      assert.equal(problem!.keyPath, 'instances[0].log_processing_rules', check);
      assert.match(problem!.message, /collect_logs is off, found rules that would do nothing/);
      assert.match(problem!.hint ?? '', /add `collect_logs: true`/);
      assert.equal(loaded.instances.length, 0);
    }
  });
});
