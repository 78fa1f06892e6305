/**
 * AWS refused a call for lack of permission. Raised by every client (see AwsClientFactory) with the
 * IAM action that was denied, so that an optional feature can degrade and say exactly what to grant.
 */
export class PermissionDeniedError extends Error {
  constructor(
    readonly iamAction: string,
    cause: unknown,
  ) {
    super(`${iamAction} is denied (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = 'PermissionDeniedError';
  }
}

const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedException',
  'AuthorizationError',
]);

/** An IAM refusal, as opposed to bad or expired credentials (also 403, but retried elsewhere). */
export function isAccessDenied(error: unknown): boolean {
  const e = error as { name?: string; Code?: string } | undefined;
  return DENIED.has(e?.name ?? '') || DENIED.has(e?.Code ?? '');
}
