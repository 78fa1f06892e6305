import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatKeyPath } from '../../../core/config/config-problem.js';
import { closestMatch, levenshtein } from '../../../core/messages/did-you-mean.js';
import { substituteEnv } from '../../../core/config/env-substitution.js';
import { canonicalJson, instanceId } from '../../../core/config/instance-id.js';
import { parseListenAddress } from '../../../core/config/listen-address.js';

test('levenshtein and closestMatch: ≤ 2 edits or a prefix, nothing when far', () => {
  assert.equal(levenshtein('kitten', 'sitting'), 3);
  assert.equal(closestMatch('amazon_lamda', ['amazon_lambda', 'amazon_rekognition']), 'amazon_lambda');
  assert.equal(closestMatch('regio', ['regions', 'period']), 'regions');
  assert.equal(closestMatch('perid', ['regions', 'period']), 'period');
  assert.equal(closestMatch('colour', ['regions', 'period']), undefined);
});

test('formatKeyPath writes indexes and quotes odd keys', () => {
  assert.equal(formatKeyPath(['instances', 1, 'regions', 0]), 'instances[1].regions[0]');
  assert.equal(formatKeyPath(['tags', 'a.b']), 'tags["a.b"]');
});

test('substituteEnv: defaults, escapes, unset variables and typed plain scalars', () => {
  const env = { HOST: 'db', EMPTY: '', PORT: '5432' };
  const result = substituteEnv(
    { a: '${HOST}:${PORT}', b: '${EMPTY:-fallback}', c: '$${HOST}', d: ['${NOPE}'], port: '${PORT}' },
    env,
    (path) => path[0] === 'port',
  );
  assert.deepEqual(result.value, { a: 'db:5432', b: 'fallback', c: '${HOST}', d: ['${NOPE}'], port: 5432 });
  assert.deepEqual(result.unset, [{ path: ['d', 0], variable: 'NOPE' }]);
});

test('canonicalJson sorts keys at every level; instanceId includes the name', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } }),
    '{"a":{"c":[3,{"e":0,"f":1}],"d":2},"b":1}',
  );
  const id = instanceId('amazon_lambda', { regions: 'all' }, null);
  assert.equal(id, instanceId('amazon_lambda', { regions: 'all' }, {}));
  assert.match(
    instanceId('amazon_lambda', { regions: 'all', name: 'x' }, null, 'x'),
    /^amazon_lambda:x:[0-9a-f]{16}$/,
  );
});

test('parseListenAddress', () => {
  assert.deepEqual(parseListenAddress('localhost:80'), { host: 'localhost', port: 80 });
  assert.equal(parseListenAddress('OFF'), 'off');
  assert.equal(parseListenAddress('::1:80'), undefined);
  assert.equal(parseListenAddress('host:99999'), undefined);
});
