import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { parseExampleOptionNames, renderConfExample } from '../../../core/config/example-writer.js';
import { RESERVED_INIT_CONFIG_KEYS, RESERVED_INSTANCE_KEYS } from '../../../core/config/reserved-keys.js';
import { fakeLambda } from './fake-checks.js';

test('renderConfExample documents every option of the schemas, reserved keys included', () => {
  const text = renderConfExample(fakeLambda);
  const names = parseExampleOptionNames(text);
  assert.deepEqual(
    [...names.instances].sort(),
    [...Object.keys(fakeLambda.instanceSchema.shape), ...RESERVED_INSTANCE_KEYS].sort(),
  );
  assert.deepEqual(names.initConfig, [
    ...Object.keys(fakeLambda.initConfigSchema.shape),
    ...RESERVED_INIT_CONFIG_KEYS,
  ]);
});

test('each option carries its description, type, required-ness and default', () => {
  const text = renderConfExample(fakeLambda);
  assert.match(
    text,
    /## @param period - integer ≥ 60 - optional - default: 60\n\s+## CloudWatch period in seconds\./,
  );
  assert.match(text, /## @param regions - non-empty list of non-empty strings or "all" - required\n/);
  assert.match(
    text,
    /## @param min_collection_interval - number ≥ 1 and ≤ 2147483 - optional - default: 60\n/,
  );
  assert.match(text, /## @param empty_default_hostname - true or false - optional - default: true\n/);
  assert.match(text, /# period: 60\n/);
});

test('the example is valid YAML whose only active value is the required option with its example', () => {
  const doc = parseDocument(renderConfExample(fakeLambda));
  assert.deepEqual(doc.errors, []);
  assert.deepEqual(doc.toJS(), { init_config: null, instances: [{ regions: ['us-east-1'] }] });
});
