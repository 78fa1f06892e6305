/** Small check definitions and conf.d builders shared by the config tests. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Check, CheckDefinition } from '../../../core/check/check.js';
import { writeSecretBackendScript } from '../../support/secret-backend.js';

class IdleCheck implements Check {
  run(): Promise<void> {
    return Promise.resolve();
  }
}

export const fakeLambda: CheckDefinition = {
  name: 'amazon_lambda',
  description: 'Test double of the Lambda check.',
  instanceSchema: z.object({
    regions: z
      .union([z.array(z.string().min(1)).min(1), z.literal('all')])
      .meta({ description: 'AWS regions to poll, or "all".', examples: [['us-east-1']] }),
    period: z.number().int().min(60).default(60).describe('CloudWatch period in seconds.'),
    role_arn: z.string().optional().describe('IAM role to assume before calling AWS.'),
    api_token: z.string().optional().describe('A secret-named option, masked in output.'),
  }),
  initConfigSchema: z.object({
    proxy: z.string().optional().describe('HTTPS proxy for AWS calls.'),
  }),
  defaultMinCollectionInterval: 60,
  checkClass: IdleCheck,
};

export const fakeRekognition: CheckDefinition = {
  name: 'amazon_rekognition',
  description: 'Test double of the Rekognition check.',
  instanceSchema: z.object({
    region: z.string().describe('The AWS region.'),
  }),
  initConfigSchema: z.object({}),
  defaultMinCollectionInterval: 300,
  checkClass: IdleCheck,
};

export const definitions: readonly CheckDefinition[] = [fakeLambda, fakeRekognition];

const tempDirs: string[] = [];

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder the helpers below created; call from `after()`. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Writes `files` (path relative to conf.d → text) into a fresh temp conf.d and returns its path. */
export async function writeConfd(files: Readonly<Record<string, string>>): Promise<string> {
  const root = await tempDir('dogwatch-confd-');
  const confd = join(root, 'conf.d');
  await mkdir(confd, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(confd, path)), { recursive: true });
    await writeFile(join(confd, path), text);
  }
  return confd;
}

export const CANARY = 'CANARY-SECRET-123';

/**
 * A real executable secret backend (the Agent protocol): handles starting with `good` resolve to
 * `CANARY-SECRET-123-<handle>`, others fail. Each call appends its request to `calls.log`.
 */
export async function writeSecretBackend(): Promise<{ command: string; callsLog: string }> {
  const dir = await tempDir('dogwatch-secrets-');
  const callsLog = join(dir, 'calls.log');
  const command = writeSecretBackendScript(join(dir, 'secret-backend.mjs'), {
    prefixRule: { handlePrefix: 'good', valuePrefix: CANARY },
    unknownError: 'no such secret',
    callsLog,
  });
  return { command, callsLog };
}
