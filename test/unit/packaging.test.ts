/**
 * Packaging mistakes caught before an image is built: the `dogwatch` bin, approved install scripts, the data
 * files the runtime reads, the Dockerfile's essentials and the Kubernetes manifest's security context.
 * (There is no Docker engine in CI: these read the files, they do not build or run the image.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { packageRoot } from '../../core/package-root.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The compiled tree this test runs from (dist/, or dist-pack/ …): test/unit/ is two levels down. */
const compiledRoot = resolve(here, '..', '..');

function repoRoot(): string {
  let dir = here;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'checks'))) return dir;
    const parent = dirname(dir);
    assert.notEqual(parent, dir, 'cannot find the repository root (package.json beside checks/)');
    dir = parent;
  }
}

const root = repoRoot();
const readText = (...segments: string[]): string => readFileSync(join(root, ...segments), 'utf8');

interface PackageJson {
  bin?: Record<string, string> | string;
  allowScripts?: Record<string, boolean>;
}
const pkg = JSON.parse(readText('package.json')) as PackageJson;

function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...sourceFiles(path));
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------
// Dockerfile, read the way the builder reads it: comments dropped, continuation lines joined, stages split.

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${pending}${line}`.trim());
    pending = '';
  }
  const globalArgs = new Map<string, string>();
  const substitute = (value: string): string =>
    value.replace(
      /\$\{(\w+)\}|\$(\w+)/g,
      (whole, a?: string, b?: string) => globalArgs.get(a ?? b ?? '') ?? whole,
    );
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\w+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    const args = match[2] ?? '';
    if (keyword === 'FROM') {
      const words = args.split(/\s+/).filter((word) => !word.startsWith('--'));
      const asIndex = words.findIndex((word) => word.toUpperCase() === 'AS');
      stages.push({
        image: substitute(words[0] ?? ''),
        name: asIndex >= 0 ? words[asIndex + 1] : undefined,
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (keyword === 'ARG') {
        const [name, value] = args.split('=');
        if (name !== undefined && value !== undefined) globalArgs.set(name.trim(), value.trim());
      }
    } else {
      stages[stages.length - 1]!.instructions.push({ keyword, args });
    }
  }
  return stages;
}

const dockerfileText = readText('Dockerfile');
const stages = parseDockerfile(dockerfileText);
const runtime = stages[stages.length - 1]!;
const allInstructions = stages.flatMap((stage) => stage.instructions);
const runtimeOf = (keyword: string): Instruction[] =>
  runtime.instructions.filter((instruction) => instruction.keyword === keyword);

// ---------------------------------------------------------------------------------------------------------
// deploy/kubernetes.yaml

interface Container {
  name: string;
  env?: { name: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  livenessProbe?: { exec?: unknown; httpGet?: unknown };
  readinessProbe?: { exec?: unknown; httpGet?: unknown };
}
interface PodSpec {
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
}
interface K8sObject {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { template?: { spec: PodSpec } } & Partial<PodSpec>;
}

function kubernetesObjects(): K8sObject[] {
  const documents = parseAllDocuments(readText('deploy', 'kubernetes.yaml'));
  assert.ok(Array.isArray(documents), 'deploy/kubernetes.yaml: expected YAML documents');
  for (const document of documents)
    assert.deepEqual(document.errors.map(String), [], 'deploy/kubernetes.yaml must parse cleanly');
  return documents.map((document) => document.toJS() as K8sObject).filter((object) => object !== null);
}

function dogwatchPod(objects: readonly K8sObject[]): { pod: PodSpec; container: Container } {
  const workload = objects.find((object) =>
    ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet'].includes(object.kind),
  );
  assert.ok(workload, 'deploy/kubernetes.yaml: a Pod or Deployment');
  const pod = (workload.kind === 'Pod' ? workload.spec : workload.spec?.template?.spec) as PodSpec;
  const container = pod.containers.find((candidate) => candidate.name === 'dogwatch');
  assert.ok(container, 'a container named dogwatch');
  return { pod, container };
}

// ---------------------------------------------------------------------------------------------------------

test('bin.dogwatch points at the compiled CLI, which starts with a node shebang', () => {
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.dogwatch;
  assert.equal(typeof bin, 'string', 'package.json bin.dogwatch');
  const tsconfig = JSON.parse(readText('tsconfig.json')) as { compilerOptions: { outDir: string } };
  const outDir = tsconfig.compilerOptions.outDir.replace(/^\.\//, '').replace(/\/$/, '');
  assert.ok(bin!.startsWith(`${outDir}/`), `bin ${bin} should live in the build's outDir (${outDir}/)`);
  const relativeToOut = bin!.slice(outDir.length + 1);
  const source = join(root, relativeToOut.replace(/\.js$/, '.ts'));
  const compiled = join(compiledRoot, relativeToOut);
  assert.ok(existsSync(source), `no source for the bin: ${source}`);
  assert.ok(existsSync(compiled), `the build did not produce the bin: ${compiled}`);
  for (const file of [source, compiled])
    assert.equal(readFileSync(file, 'utf8').split('\n')[0], '#!/usr/bin/env node', `${file}: shebang`);
});

test('the runtime finds its package root from the compiled code, as it will inside the image', () => {
  assert.equal(packageRoot(), root);
});

test('allowScripts approves unix-dgram, and every dependency with an install script is decided', () => {
  const allow = pkg.allowScripts ?? {};
  const approved = (name: string): boolean | undefined =>
    Object.entries(allow).find(([key]) => key === name || key.startsWith(`${name}@`))?.[1];
  assert.equal(
    approved('unix-dgram'),
    true,
    'hot-shots needs the compiled unix-dgram for DogStatsD over UDS',
  );
  const lock = JSON.parse(readText('package-lock.json')) as {
    packages: Record<string, { hasInstallScript?: boolean; dev?: boolean }>;
  };
  const undecided = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.hasInstallScript === true)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
    .filter((name) => approved(name) === undefined);
  assert.deepEqual(undecided, [], 'approve or deny these in package.json allowScripts (npm approve-scripts)');
});

test('every checks/<name>/metadata.csv the code loads exists', () => {
  const referenced = new Set<string>();
  for (const file of [...sourceFiles(join(root, 'checks')), ...sourceFiles(join(root, 'core'))]) {
    for (const match of readFileSync(file, 'utf8').matchAll(
      /packageFile\(\s*'checks'\s*,\s*'([^']+)'\s*,\s*'metadata\.csv'\s*\)/g,
    ))
      referenced.add(match[1]!);
  }
  assert.ok(referenced.size > 0, 'expected packageFile("checks", <name>, "metadata.csv") in the checks');
  for (const name of referenced) {
    const path = join(root, 'checks', name, 'metadata.csv');
    assert.ok(existsSync(path), `missing ${path}`);
    assert.match(readFileSync(path, 'utf8'), /^metric_name,/, `${path}: header`);
  }
});

test('the Dockerfile builds on Node 24, prunes dev dependencies and verifies the native addon', () => {
  assert.ok(stages.length >= 2, 'a multi-stage build');
  for (const stage of stages) assert.match(stage.image, /^node:24(-|$)/, `FROM ${stage.image}: Node 24`);
  assert.match(runtime.image, /^node:24-\w+-slim$/, 'a slim runtime image');
  const runs = allInstructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  assert.ok(
    runs.some((run) => /npm (ci|prune)\b[^&;|]*--omit=dev/.test(run)),
    'production node_modules: npm ci --omit=dev or npm prune --omit=dev',
  );
  assert.ok(
    runs.some((run) => run.includes("require('unix-dgram')")),
    'unix-dgram is optional for npm: the build must prove it compiled',
  );
});

test('the Dockerfile runtime stage runs as a non-root user with a HEALTHCHECK and the bin as entrypoint', () => {
  const users = runtimeOf('USER');
  assert.ok(users.length > 0, 'a USER in the runtime stage');
  const user = users[users.length - 1]!.args.trim().split(':')[0]!;
  assert.ok(user !== 'root' && user !== '0', `USER ${user} must not be root`);
  const healthchecks = runtimeOf('HEALTHCHECK');
  assert.equal(healthchecks.length, 1, 'one HEALTHCHECK');
  assert.doesNotMatch(healthchecks[0]!.args, /^NONE\b/);
  assert.doesNotMatch(healthchecks[0]!.args, /\bcurl\b|\bwget\b/, 'the slim image has neither curl nor wget');
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin!.dogwatch!;
  assert.ok(runtimeOf('ENTRYPOINT')[0]?.args.includes(bin), `ENTRYPOINT runs ${bin}`);
  const volumes = runtimeOf('VOLUME').map((i) => i.args);
  assert.ok(
    volumes.some((v) => v.includes('/var/lib/dogwatch')),
    'the state directory is a VOLUME',
  );
  const env = runtimeOf('ENV')
    .map((i) => i.args)
    .join(' ');
  assert.match(env, /DOGWATCH_STATE_DIR=\/var\/lib\/dogwatch/);
  assert.match(env, /DOGWATCH_CONFD=\/etc\/dogwatch\/conf\.d/);
});

test('the Dockerfile ships package.json, dist/core, dist/checks and every checks/*/metadata.csv', () => {
  const copiesAndRuns = allInstructions
    .filter((i) => i.keyword === 'COPY' || i.keyword === 'RUN')
    .map((i) => i.args)
    .join('\n');
  for (const needed of ['package.json', 'dist/core', 'dist/checks', 'checks/*/metadata.csv'])
    assert.ok(copiesAndRuns.includes(needed), `the image must get ${needed}`);
  // `COPY checks/*/metadata.csv dest/` flattens them into one file; keep folders (--parents, or stage them).
  for (const copy of allInstructions.filter((i) => i.keyword === 'COPY'))
    assert.ok(
      !/\*\/[^\s]*metadata\.csv/.test(copy.args) || copy.args.includes('--parents'),
      `COPY ${copy.args} would flatten the checks' metadata.csv files`,
    );
});

test('.dockerignore keeps build inputs and drops local artefacts', () => {
  const ignored = new Set(
    readText('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
  for (const needed of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'scripts',
    'core',
    'checks',
    'test',
  ])
    assert.ok(!ignored.has(needed) && !ignored.has(`${needed}/`), `.dockerignore must not exclude ${needed}`);
  for (const excluded of ['node_modules', 'dist', '.git', '.state'])
    assert.ok(ignored.has(excluded), `.dockerignore should exclude ${excluded}`);
});

test('deploy/kubernetes.yaml runs dogwatch non-root on a read-only root filesystem, without static keys', () => {
  const objects = kubernetesObjects();
  const { pod, container } = dogwatchPod(objects);
  const context = container.securityContext ?? {};
  assert.equal(context.readOnlyRootFilesystem, true, 'readOnlyRootFilesystem: true');
  assert.equal(context.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, true, 'runAsNonRoot: true');
  assert.equal(context.allowPrivilegeEscalation, false, 'allowPrivilegeEscalation: false');
  assert.ok(context.capabilities?.drop?.includes('ALL'), 'capabilities: drop ALL');
  const uid = context.runAsUser ?? pod.securityContext?.runAsUser;
  const imageUser = runtimeOf('USER').at(-1)?.args.trim().split(':')[0];
  assert.equal(String(uid), imageUser, 'runAsUser matches the image USER');
  const envNames = (container.env ?? []).map((e) => e.name);
  assert.ok(
    !envNames.includes('AWS_ACCESS_KEY_ID') && !envNames.includes('AWS_SECRET_ACCESS_KEY'),
    'no static keys',
  );
  const serviceAccount = objects.find(
    (o) => o.kind === 'ServiceAccount' && o.metadata.name === (pod.serviceAccountName ?? 'default'),
  );
  assert.ok(serviceAccount?.metadata.annotations?.['eks.amazonaws.com/role-arn'], 'IRSA role annotation');
});

test('deploy/kubernetes.yaml gives dogwatch the socket, conf.d and state mounts, and exec probes', () => {
  const { pod, container } = dogwatchPod(kubernetesObjects());
  const mounts = new Map((container.volumeMounts ?? []).map((m) => [m.mountPath, m]));
  for (const path of ['/var/run/datadog', '/etc/dogwatch/conf.d', '/var/lib/dogwatch'])
    assert.ok(mounts.has(path), `dogwatch mounts ${path}`);
  assert.equal(mounts.get('/etc/dogwatch/conf.d')?.readOnly, true, 'conf.d read-only');
  const socketVolume = mounts.get('/var/run/datadog')!.name;
  const agent = pod.containers.find((c) => c.name !== 'dogwatch');
  assert.ok(
    agent?.volumeMounts?.some((m) => m.name === socketVolume && m.mountPath === '/var/run/datadog'),
    'the Agent shares the socket volume',
  );
  for (const probe of [container.livenessProbe, container.readinessProbe]) {
    assert.ok(probe?.exec, 'exec probes: the status listener is loopback-only');
    assert.equal(probe.httpGet, undefined);
  }
});

test('deploy/docker-compose.yaml runs dogwatch with a read-only root filesystem', () => {
  const compose = parse(readText('deploy', 'docker-compose.yaml')) as {
    services: Record<string, { read_only?: boolean; volumes?: string[] }>;
  };
  const dogwatch = compose.services.dogwatch;
  assert.ok(dogwatch, 'a dogwatch service');
  assert.equal(dogwatch.read_only, true);
  assert.ok(
    dogwatch.volumes?.some((v) => v.endsWith(':/var/lib/dogwatch')),
    'state on a volume',
  );
});
