import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AwsCredentialIdentity } from '@smithy/types';
import {
  isExpiredCredentialsError,
  refreshableCredentials,
} from '../../../core/aws/refreshable-credentials.js';

/** A credential source handing out key-1, key-2, … and counting how often it was asked. */
function countingSource(expiresInMs?: number, now = () => 0) {
  let fetches = 0;
  let failNext: Error | undefined;
  return {
    get fetches() {
      return fetches;
    },
    failOnce(error: Error) {
      failNext = error;
    },
    fetch: async (): Promise<AwsCredentialIdentity> => {
      fetches++;
      await Promise.resolve();
      if (failNext) {
        const error = failNext;
        failNext = undefined;
        throw error;
      }
      return {
        accessKeyId: `key-${fetches}`,
        secretAccessKey: 'secret',
        ...(expiresInMs !== undefined ? { expiration: new Date(now() + expiresInMs) } : {}),
      };
    },
  };
}

describe('refreshableCredentials', () => {
  test('one fetch for many concurrent callers, then served from memory', async () => {
    const source = countingSource();
    const credentials = refreshableCredentials(source.fetch);
    const got = await Promise.all([credentials(), credentials(), credentials()]);
    assert.deepEqual(
      got.map((c) => c.accessKeyId),
      ['key-1', 'key-1', 'key-1'],
    );
    assert.equal((await credentials()).accessKeyId, 'key-1');
    assert.equal(source.fetches, 1);
    assert.equal(credentials.memoized, true, 'SDK clients must not wrap it in their own cache');
  });

  test('refreshes five minutes before the announced expiry', async () => {
    let now = 0;
    const source = countingSource(3600_000, () => now);
    const credentials = refreshableCredentials(source.fetch, () => now);
    assert.equal((await credentials()).accessKeyId, 'key-1');
    now = 3600_000 - 5 * 60_000 - 1;
    assert.equal((await credentials()).accessKeyId, 'key-1');
    now += 2;
    assert.equal((await credentials()).accessKeyId, 'key-2');
  });

  test('a rejection drops the credentials once, however many calls saw it', async () => {
    const source = countingSource();
    const credentials = refreshableCredentials(source.fetch);
    const first = await credentials();
    assert.equal(credentials.rejected(first), true);
    // Twenty more calls that were signed with the same, now dropped, credentials.
    for (let i = 0; i < 20; i++) assert.equal(credentials.rejected({ ...first }), false);
    const second = await credentials();
    assert.equal(second.accessKeyId, 'key-2');
    for (let i = 0; i < 20; i++) assert.equal(credentials.rejected(first), false);
    assert.equal((await credentials()).accessKeyId, 'key-2');
    assert.equal(source.fetches, 2);
  });

  test('a failed fetch is not cached', async () => {
    const source = countingSource();
    const credentials = refreshableCredentials(source.fetch);
    source.failOnce(new Error('STS unavailable'));
    await assert.rejects(credentials(), /STS unavailable/);
    assert.equal((await credentials()).accessKeyId, 'key-2');
  });

  test('knows the expired-credential errors of query and JSON protocols, and nothing else', () => {
    const named = (name: string) => Object.assign(new Error('x'), { name });
    assert.equal(isExpiredCredentialsError(named('ExpiredToken')), true);
    assert.equal(isExpiredCredentialsError(named('ExpiredTokenException')), true);
    assert.equal(isExpiredCredentialsError(named('ThrottlingException')), false);
    assert.equal(isExpiredCredentialsError(named('AccessDeniedException')), false);
    assert.equal(isExpiredCredentialsError(undefined), false);
  });
});
