import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfExample, parseExampleOptionNames } from '../../core/config/example-writer.js';
import { builtinDefinitions, examplePath } from '../tools/write-conf-examples.js';

for (const definition of builtinDefinitions()) {
  test(`conf.d/${definition.name}.d/conf.yaml.example is generated from the check's schema (npm run examples)`, () => {
    const committed = readFileSync(examplePath(definition.name), 'utf8');
    assert.equal(committed, renderConfExample(definition), 'stale example: run `npm run examples`');
    const documented = parseExampleOptionNames(committed).instances;
    for (const key of Object.keys(definition.instanceSchema.shape)) {
      assert.ok(documented.includes(key), `${key} is documented`);
    }
  });
}
