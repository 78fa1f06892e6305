import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** Fetch new credentials this long before the expiry AWS announced (the SDK's own margin). */
const REFRESH_MARGIN_MS = 5 * 60_000;

/** AWS error names meaning "these credentials are no longer valid, get new ones". */
const EXPIRED_CREDENTIAL_ERRORS = new Set(['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired']);

export function isExpiredCredentialsError(error: unknown): boolean {
  const e = error as { name?: string; Code?: string } | undefined;
  return EXPIRED_CREDENTIAL_ERRORS.has(e?.name ?? '') || EXPIRED_CREDENTIAL_ERRORS.has(e?.Code ?? '');
}

/**
 * A credential provider shared by every SDK client of one identity, which can be told that AWS
 * rejected its credentials.
 *
 * Why not the SDK's own caching: each client memoises on its own and refreshes only on the expiry
 * time the credentials announced, judged by this machine's clock. Credentials AWS rejects before that
 * (a revoked session, a skewed clock, a token that expired while the daemon was suspended) would fail
 * every call until that time: an hour of CRITICAL runs for an assumed role. Here one rejection drops
 * them for every client at once, and the next call fetches new ones.
 */
export interface RefreshableCredentials extends AwsCredentialIdentityProvider {
  /** Tells the SDK clients not to wrap this provider in their own per-client cache. */
  readonly memoized: true;
  /**
   * AWS rejected `identity` as expired. Drops it if it is still the current one and returns true;
   * returns false when newer credentials are already there or on their way (many calls in flight
   * see the same rejection: only the first one causes a fetch).
   */
  rejected(identity: AwsCredentialIdentity | undefined): boolean;
}

export function refreshableCredentials(
  fetch: AwsCredentialIdentityProvider,
  now: () => number = Date.now,
): RefreshableCredentials {
  let pending: Promise<AwsCredentialIdentity> | undefined;
  let current: AwsCredentialIdentity | undefined;

  const nearExpiry = (identity: AwsCredentialIdentity) =>
    identity.expiration !== undefined && identity.expiration.getTime() - now() < REFRESH_MARGIN_MS;

  const provider = ((options?: Parameters<AwsCredentialIdentityProvider>[0]) => {
    if (current && !nearExpiry(current)) return Promise.resolve(current);
    if (!pending) {
      current = undefined;
      const attempt: Promise<AwsCredentialIdentity> = fetch(options).then(
        (identity) => {
          if (pending === attempt) {
            current = identity;
            pending = undefined;
          }
          return identity;
        },
        (error: unknown) => {
          // A failed fetch is not cached: the next call tries again.
          if (pending === attempt) pending = undefined;
          throw error;
        },
      );
      pending = attempt;
    }
    return pending;
  }) as RefreshableCredentials;

  Object.defineProperty(provider, 'memoized', { value: true });
  provider.rejected = (identity) => {
    if (!current) return false;
    if (identity && identity !== current && identity.accessKeyId !== current.accessKeyId) return false;
    current = undefined;
    return true;
  };
  return provider;
}
