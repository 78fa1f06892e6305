import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { startUdpListener } from '../../support/dogstatsd-listener.js';
import { validateDatagram } from '../../support/dogstatsd-validator.js';

const valid = [
  'aws.lambda.invocations:3|c|#functionname:f1,region:us-east-1|T1764028800',
  'a.b:0.5|g',
  'a.b:1|h|@0.5|#x',
  'set.m:abc|s',
  '_e{5,4}:title|text|d:1764028800|h:h|k:k|p:normal|s:src|t:error|#a:b',
  `_e{${String(Buffer.byteLength('배포'))},3}:배포|a|b`,
  '_sc|aws.lambda.can_connect|0|d:1764028800|h:|#a:b|m:fine',
];

const invalid: Array<[string, RegExp]> = [
  ['', /empty/],
  ['1abc:1|g', /metric name/],
  ['a-b:1|g', /metric name/],
  [`${'a'.repeat(201)}:1|g`, /longer than 200/],
  ['a:NaN|g', /finite number/],
  ['a:1e999|g', /finite number/],
  ['a:1|x', /metric type/],
  ['a:1|g|#', /empty tag section/],
  ['a:1|g|#a,,b', /empty tag/],
  ['a:1|g|#:v', /empty name/],
  ['a:1|g|#a#b', /contains/],
  ['a:1|g|T1764028800000', /plausible/],
  ['a:1|g|T17640.5', /integer/],
  ['a:1|h|T1764028800', /discarded/],
  ['a:1|g|T1764028800|#a', /out of order/],
  ['a:1|g|@2', /sample rate/],
  ['a:1|g|c:container', /unknown metric field/],
  ['_e{5,4}:titl|text', /title byte length/],
  ['_e{2,3}:배포|abc', /title byte length/],
  ['_e{1,9}:t|text', /text byte length/],
  ['_e{1,1}:t|x|p:high', /priority/],
  ['_sc|a|4', /status/],
  ['_sc|a|0|m:x|y', /after m:/],
  ['_sc|a|0|#a|d:1764028800', /out of order/],
];

describe('validateDatagram', () => {
  it('accepts well-formed lines, alone and packed', () => {
    for (const line of valid) assert.deepEqual(validateDatagram(Buffer.from(line), 8192), [], line);
    assert.deepEqual(validateDatagram(Buffer.from(valid.join('\n')), 8192), []);
  });

  for (const [line, expected] of invalid) {
    it(`rejects ${JSON.stringify(line.slice(0, 40))}`, () => {
      const errors = validateDatagram(Buffer.from(line), 8192);
      assert.ok(
        errors.some((e) => expected.test(e)),
        `${expected.source} not in ${JSON.stringify(errors)}`,
      );
    });
  }

  it('rejects a datagram over the limit, empty lines and invalid UTF-8', () => {
    assert.match(validateDatagram(Buffer.from('a:1|g\na:1|g'), 10).join(), /limit 10/);
    assert.match(validateDatagram(Buffer.from('a:1|g\n'), 100).join(), /empty line/);
    assert.match(validateDatagram(Buffer.from([0x61, 0x3a, 0x31, 0x7c, 0x67, 0xff]), 100).join(), /UTF-8/);
  });
});

describe('test listeners validate every datagram they receive', () => {
  const send = (port: number, text: string) =>
    new Promise<void>((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.send(text, port, '127.0.0.1', (error) => {
        socket.close();
        if (error) reject(error);
        else resolve();
      });
    });

  it('close() fails when one datagram was malformed, even if the test never looked at it', async () => {
    const listener = await startUdpListener();
    await send(listener.port, 'a.b:1|g');
    await send(listener.port, 'a.b:NaN|g');
    await listener.waitFor(2);
    await assert.rejects(listener.close(), /1 invalid DogStatsD datagram\(s\)[\s\S]*finite number/);
  });

  it('close() fails on a datagram over the transport limit, and passes when all were valid', async () => {
    const big = await startUdpListener();
    await send(big.port, `a.b:1|g|#${'t'.repeat(1500)}`);
    await big.waitFor(1);
    await assert.rejects(big.close(), /limit 1432/);
    const fine = await startUdpListener();
    await send(fine.port, 'a.b:1|g');
    await fine.waitFor(1);
    await fine.close();
  });
});
