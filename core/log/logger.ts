import winston from 'winston';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export type Logger = winston.Logger;

/**
 * Values that must never reach a log line, whatever key they hide under. Matches AWS access keys,
 * secret-looking fields, session tokens and ENC[...] handles.
 */
const SECRET_KEY = /(secret|token|password|passwd|credential|authorization|api[_-]?key|external_id)/i;
const SECRET_VALUE_PATTERNS: readonly RegExp[] = [
  /ENC\[[^\]]*\]/g,
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/g,
  /(aws_secret_access_key|aws_session_token|SecretAccessKey|SessionToken|x-amz-security-token)(["'=:\s]+)[^\s"',;}&]+/gi,
  /(X-Amz-Signature|Signature)(=)[0-9a-fA-F]{16,}/g,
];

/** Credentials of this process, whatever text they turn up in (an AWS error echoing a header, …). */
function processSecrets(): string[] {
  return [process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN].filter(
    (v): v is string => typeof v === 'string' && v.length >= 8,
  );
}

/** Replace secret-looking substrings of a string. Exported for status and configcheck output. */
export function redactString(text: string): string {
  let out = text;
  for (const secret of processSecrets()) out = out.split(secret).join('***');
  for (const pattern of SECRET_VALUE_PATTERNS) {
    out = out.replace(pattern, (match: string, key?: string, sep?: string) =>
      key !== undefined && sep !== undefined && !match.startsWith('ENC[') && !/^(AKIA|ASIA)/.test(match)
        ? `${key}${sep}***`
        : '***',
    );
  }
  return out;
}

/** Deep copy with secret-named keys masked and secret-looking strings redacted. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[too deep]';
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] =
        SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '' ? '***' : redactValue(v, depth + 1);
    }
    return out;
  }
  return value;
}

const redactFormat = winston.format((info) => {
  const redacted = redactValue({ ...info }) as winston.Logform.TransformableInfo;
  // winston keeps level/message under symbols too; copy the string keys back onto the same object.
  for (const key of Object.keys(redacted)) info[key] = redacted[key];
  return info;
});

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Defaults to stderr so `dogwatch check --json` keeps stdout for data. */
  stream?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const format =
    options.format === 'json'
      ? winston.format.combine(winston.format.timestamp(), redactFormat(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss' }),
          redactFormat(),
          winston.format.printf((info) => {
            const { timestamp, level, message, check, instance, ...rest } = info as Record<string, unknown>;
            const label =
              typeof instance === 'string' ? instance : typeof check === 'string' ? check : undefined;
            const who = label ? ` [${label}]` : '';
            const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${String(level).toUpperCase().padEnd(5)}${who} ${String(message)}${extra}`;
          }),
        );
  return winston.createLogger({
    level: options.level,
    format,
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
  });
}

/** A logger that drops everything, for unit tests of small pieces. */
export function createSilentLogger(): Logger {
  return winston.createLogger({
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
}
