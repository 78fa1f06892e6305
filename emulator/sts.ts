/**
 * STS over awsQuery (XML): GetCallerIdentity and AssumeRole.
 *
 * AssumeRole issues an access key that maps to the role's account. Its expiry is judged on the
 * credential clock (real time unless a test injects one), because the SDK refreshes credentials on
 * real time, not on the emulator's virtual clock.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Call, HandlerResult } from './call.js';
import { AwsError, xml } from './wire.js';
import type { World } from './world.js';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export interface IssuedSession {
  readonly account: string;
  readonly roleName: string;
  readonly sessionName: string;
  readonly expiresAtMs: number;
}

export class StsService {
  /** Session access key id → the session it belongs to. */
  readonly sessions = new Map<string, IssuedSession>();
  /** Role ARN → the ExternalId its trust policy requires (`sts:ExternalId` condition). */
  readonly requiredExternalIds = new Map<string, string>();

  constructor(
    private readonly world: World,
    private readonly credentialClock: Clock,
  ) {}

  /** Throws ExpiredToken (in the caller's protocol) when the key is an expired session key. */
  checkSession(accessKeyId: string): void {
    const session = this.sessions.get(accessKeyId);
    if (session && this.credentialClock.now() >= session.expiresAtMs) {
      throw new AwsError(
        'ExpiredTokenException',
        'The security token included in the request is expired',
        400,
        'ExpiredToken',
      );
    }
  }

  handle(call: Call): HandlerResult {
    const params = new URLSearchParams(call.body);
    const requestId = `${Date.now().toString(16)}-emulator`;
    const wrap = (op: string, result: string) =>
      `<${op}Response xmlns="${NS}"><${op}Result>${result}</${op}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${op}Response>`;
    if (call.operation === 'GetCallerIdentity') {
      const session = this.sessions.get(call.accessKeyId);
      const arn = session
        ? `arn:aws:sts::${session.account}:assumed-role/${session.roleName}/${session.sessionName}`
        : `arn:aws:iam::${call.account}:user/emulator`;
      const userId = session ? `AROAEMULATOR:${session.sessionName}` : 'AIDAEMULATORUSER';
      return {
        body: wrap(
          'GetCallerIdentity',
          `<UserId>${xml(userId)}</UserId><Account>${call.account}</Account><Arn>${xml(arn)}</Arn>`,
        ),
      };
    }
    if (call.operation === 'AssumeRole') {
      const roleArn = params.get('RoleArn') ?? '';
      const sessionName = params.get('RoleSessionName') ?? '';
      const match = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
      if (!match) throw new AwsError('ValidationError', `${roleArn} is invalid`, 400);
      if (!/^[\w+=,.@-]{2,64}$/.test(sessionName))
        throw new AwsError('ValidationError', 'RoleSessionName is invalid', 400);
      const duration = Number(params.get('DurationSeconds') ?? 3600);
      if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
        throw new AwsError(
          'ValidationError',
          "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint",
          400,
        );
      }
      const required = this.requiredExternalIds.get(roleArn);
      if (required !== undefined && params.get('ExternalId') !== required) {
        throw new AwsError(
          'AccessDenied',
          `User: arn:aws:iam::${call.account}:user/dogwatch is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
          403,
        );
      }
      const account = match[1]!;
      const roleName = match[2]!;
      const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
      const expiresAtMs = this.credentialClock.now() + duration * 1000;
      this.sessions.set(accessKeyId, { account, roleName, sessionName, expiresAtMs });
      this.world.addAccessKey(accessKeyId, account);
      const credentials =
        `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${randomBytes(20).toString('base64')}</SecretAccessKey>` +
        `<SessionToken>${randomBytes(32).toString('base64')}</SessionToken><Expiration>${new Date(expiresAtMs).toISOString()}</Expiration></Credentials>`;
      const user = `<AssumedRoleUser><AssumedRoleId>AROAEMULATOR:${xml(sessionName)}</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/${xml(roleName)}/${xml(sessionName)}</Arn></AssumedRoleUser>`;
      return { body: wrap('AssumeRole', credentials + user) };
    }
    throw new AwsError(
      'InvalidAction',
      `Could not find operation ${call.operation} for version 2011-06-15`,
      400,
    );
  }
}
