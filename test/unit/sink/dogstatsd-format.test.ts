import assert from 'node:assert/strict';
import { normalizeTags } from '../../../core/check/normalize.js';
import { describe, it } from 'node:test';
import {
  encodeEvent,
  encodeMetric,
  encodeSample,
  encodeServiceCheck,
  escapeServiceCheckMessage,
  formatMetricValue,
  tagSection,
} from '../../../core/sink/dogstatsd-format.js';
import { ServiceCheckStatus } from '../../../core/sink/samples.js';
import { assertValidDatagram } from '../../support/dogstatsd-validator.js';

const T = 1764028800; // 2025-11-25T00:00:00Z

function assertValidLine(line: string | undefined): void {
  assert.ok(line !== undefined);
  assertValidDatagram(Buffer.from(line), 8192);
}

describe('formatMetricValue', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [-0, '0'],
    [3, '3'],
    [-42, '-42'],
    [1.5, '1.5'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e-7, '0.0000001'],
    [-1.5e-10, '-0.00000000015'],
    [1.2345e-7, '0.00000012345'],
    [123456789012345680000, '123456789012345680000'],
    [1e21, '1000000000000000000000'],
    [1.5e22, '15000000000000000000000'],
    [-2.5e25, '-25000000000000000000000000'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [5e-324, '0.' + '0'.repeat(323) + '5'],
  ];
  for (const [value, expected] of cases) {
    it(`${String(value)} → ${expected.length > 40 ? expected.slice(0, 20) + '…' : expected}`, () => {
      const text = formatMetricValue(value);
      assert.equal(text, expected);
      assert.equal(Number(text), value === 0 ? 0 : value, 'round-trips');
    });
  }

  it('rejects NaN and infinities', () => {
    assert.equal(formatMetricValue(Number.NaN), undefined);
    assert.equal(formatMetricValue(Number.POSITIVE_INFINITY), undefined);
    assert.equal(formatMetricValue(Number.NEGATIVE_INFINITY), undefined);
  });
});

describe('encodeMetric', () => {
  const tags = ['functionname:f1', 'region:us-east-1'];

  it('count with tags and timestamp', () => {
    const line = encodeMetric({
      kind: 'metric',
      metric: 'aws.lambda.invocations',
      type: 'count',
      value: 3,
      timestamp: T,
      tags: normalizeTags(tags),
    });
    assert.equal(line, 'aws.lambda.invocations:3|c|#functionname:f1,region:us-east-1|T1764028800');
    assertValidLine(line);
  });

  it('gauge without tags omits the tag section; without timestamp omits |T', () => {
    const line = encodeMetric({
      kind: 'metric',
      metric: 'aws.lambda.duration',
      type: 'gauge',
      value: 12.5,
      tags: normalizeTags([]),
    });
    assert.equal(line, 'aws.lambda.duration:12.5|g');
    assertValidLine(line);
  });

  it('floors a fractional timestamp and never writes an exponent', () => {
    const line = encodeMetric({
      kind: 'metric',
      metric: 'a.b',
      type: 'gauge',
      value: 1e-7,
      timestamp: T + 0.9,
      tags: normalizeTags(['x:y']),
    });
    assert.equal(line, 'a.b:0.0000001|g|#x:y|T1764028800');
    assertValidLine(line);
  });

  it('returns undefined for a non-finite value or timestamp', () => {
    assert.equal(
      encodeMetric({
        kind: 'metric',
        metric: 'a',
        type: 'gauge',
        value: Number.NaN,
        tags: normalizeTags([]),
      }),
      undefined,
    );
    assert.equal(
      encodeMetric({
        kind: 'metric',
        metric: 'a',
        type: 'gauge',
        value: 1,
        timestamp: Number.NaN,
        tags: normalizeTags([]),
      }),
      undefined,
    );
  });

  it('reuses the tag section of the same tags array', () => {
    assert.equal(tagSection(tags), '|#functionname:f1,region:us-east-1');
    assert.equal(tagSection(tags), tagSection(tags));
    assert.equal(tagSection([]), '');
  });
});

describe('encodeEvent', () => {
  it('counts UTF-8 bytes of the escaped title and text (Korean, emoji, newline)', () => {
    const title = '배포 완료 🚀';
    const text = '람다 함수\n업데이트됨 ✅';
    const line = encodeEvent({ kind: 'event', title, text, tags: normalizeTags(['env:prod']) });
    const escapedText = '람다 함수\\n업데이트됨 ✅';
    // 18 = 배포(6) + ' ' + 완료(6) + ' ' + 🚀(4); 34 = 람다(6) ' ' 함수(6) '\\n'(2) 업데이트됨(15) ' ' ✅(3).
    assert.equal(line, `_e{18,34}:${title}|${escapedText}|#env:prod`);
    // JS string lengths (what hot-shots' event() counts) are not byte lengths.
    assert.equal(title.length, 8);
    assertValidLine(line);
  });

  it('writes every optional field in order', () => {
    const line = encodeEvent({
      kind: 'event',
      title: 'T',
      text: 'a|b',
      timestamp: T,
      hostname: 'h1',
      aggregationKey: 'k|1',
      priority: 'low',
      sourceTypeName: 'amazon_lambda',
      alertType: 'warning',
      tags: normalizeTags(['a:b']),
    });
    assert.equal(line, '_e{1,3}:T|a|b|d:1764028800|h:h1|k:k_1|p:low|s:amazon_lambda|t:warning|#a:b');
    assertValidLine(line);
  });

  it('turns \\r\\n into a single escaped newline', () => {
    assert.equal(
      encodeEvent({ kind: 'event', title: 'a\r\nb', text: '', tags: normalizeTags([]) }),
      '_e{4,0}:a\\nb|',
    );
  });
});

describe('encodeServiceCheck', () => {
  it('writes m: last with newlines escaped and | replaced', () => {
    const line = encodeServiceCheck({
      kind: 'service_check',
      name: 'aws.lambda.can_connect',
      status: ServiceCheckStatus.CRITICAL,
      timestamp: T,
      hostname: '',
      message: 'AccessDenied | lambda:ListFunctions\nsee IAM',
      tags: normalizeTags(['region:us-east-1']),
    });
    assert.equal(
      line,
      '_sc|aws.lambda.can_connect|2|d:1764028800|h:|#region:us-east-1|m:AccessDenied ¦ lambda:ListFunctions\\nsee IAM',
    );
    assertValidLine(line);
  });

  it('minimal form', () => {
    const line = encodeServiceCheck({
      kind: 'service_check',
      name: 'x.can_connect',
      status: 0,
      tags: normalizeTags([]),
    });
    assert.equal(line, '_sc|x.can_connect|0');
    assertValidLine(line);
  });

  it('refuses a status outside 0..3', () => {
    const status = 4 as unknown as ServiceCheckStatus;
    assert.equal(
      encodeServiceCheck({ kind: 'service_check', name: 'x', status, tags: normalizeTags([]) }),
      undefined,
    );
  });

  it('escapeServiceCheckMessage', () => {
    assert.equal(escapeServiceCheckMessage('a|b\nc'), 'a¦b\\nc');
  });
});

describe('encodeSample', () => {
  it('dispatches on kind', () => {
    assert.equal(
      encodeSample({ kind: 'metric', metric: 'a', type: 'gauge', value: 1, tags: normalizeTags([]) }),
      'a:1|g',
    );
    assert.equal(
      encodeSample({ kind: 'service_check', name: 'a', status: 3, tags: normalizeTags([]) }),
      '_sc|a|3',
    );
    assert.equal(
      encodeSample({ kind: 'event', title: 'a', text: 'b', tags: normalizeTags([]) }),
      '_e{1,1}:a|b',
    );
  });
});
