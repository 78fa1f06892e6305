/**
 * iam/dogwatch-policy.json and the action table of iam/README.md are what the AWS API declarations give
 * (core/aws/core-aws-apis.ts and the checks' `awsApis`; `npm run iam:generate` writes them), and the
 * declarations match the code: the TypeScript sources under core/ and checks/ are read (imports from
 * @aws-sdk/*, then `new XCommand(...)`, `paginateX(...)` and credential-provider calls), each SDK command
 * is attributed to the declared client its module exports, and every command must have a declared IAM
 * action, every declared action a command that uses it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import {
  actionTable,
  awsApiRegistry,
  policyText,
  POLICY_FILE,
  README_FILE,
} from '../tools/write-iam-policy.js';

/**
 * Credential providers that call AWS on the SDK's behalf: the declared client and operation of their call
 * (null: no permission policy action; env, profile, IRSA — AssumeRoleWithWebIdentity is granted by the
 * role's trust policy —, container and instance metadata).
 */
const CREDENTIAL_PROVIDER_CALLS: Readonly<Record<string, { client: string; operation: string } | null>> = {
  '@aws-sdk/credential-providers#fromTemporaryCredentials': { client: 'sts', operation: 'AssumeRole' },
  '@aws-sdk/credential-providers#fromNodeProviderChain': null,
};

export interface SdkUse {
  /** `<module>#<exported name>`. */
  readonly symbol: string;
  /** `file:line`. */
  readonly where: string;
}

export interface SourceScan {
  readonly uses: SdkUse[];
  /** Constructs the scanner cannot attribute to an SDK symbol; each is a test failure. */
  readonly problems: string[];
}

const CLIENT_MODULE = /^@aws-sdk\/client-/;
const CREDENTIALS_MODULE = /^@aws-sdk\/credential-provider/;
/** SDK helpers that make no AWS call (the SDK's region table, read by config validation). */
const LOCAL_HELPERS = new Set(['@aws-sdk/core/client#partition']);

/** Which imported names are calls to AWS (as opposed to clients, types, exceptions). */
function isOperationSymbol(module: string, name: string): boolean {
  if (CLIENT_MODULE.test(module))
    return /Command$/.test(name) || /^(paginate|waitFor|waitUntil)[A-Z]/.test(name);
  if (CREDENTIALS_MODULE.test(module)) return /^from[A-Z]/.test(name);
  return false;
}

/** Finds every AWS SDK operation a TypeScript source uses, following import aliases and namespaces. */
export function scanSource(fileName: string, text: string): SourceScan {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const uses: SdkUse[] = [];
  const problems: string[] = [];
  const where = (node: ts.Node): string =>
    `${fileName}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
  /** Local name → the symbol it was imported as. */
  const named = new Map<string, { module: string; name: string }>();
  /** Local namespace name → module. */
  const namespaces = new Map<string, string>();
  /** Local names imported from modules other than @aws-sdk (commander's Command, …). */
  const foreign = new Set<string>();

  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const module = statement.moduleSpecifier.text;
    const clause = statement.importClause;
    if (!clause || clause.isTypeOnly) continue;
    const fromSdk = module.startsWith('@aws-sdk/');
    if (clause.name) {
      if (fromSdk) namespaces.set(clause.name.text, module);
      else foreign.add(clause.name.text);
    }
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) {
      if (fromSdk) namespaces.set(bindings.name.text, module);
      else foreign.add(bindings.name.text);
    } else if (bindings) {
      for (const element of bindings.elements) {
        if (element.isTypeOnly) continue;
        const local = element.name.text;
        if (fromSdk) named.set(local, { module, name: (element.propertyName ?? element.name).text });
        else foreign.add(local);
      }
    }
  }

  const record = (module: string, name: string, node: ts.Node): void => {
    if (isOperationSymbol(module, name)) uses.push({ symbol: `${module}#${name}`, where: where(node) });
    else if (
      !CLIENT_MODULE.test(module) &&
      !CREDENTIALS_MODULE.test(module) &&
      !LOCAL_HELPERS.has(`${module}#${name}`)
    )
      problems.push(`${where(node)}: ${name} from ${module} is not a client or credential provider`);
  };

  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node) || ts.isCallExpression(node)) {
      const callee = node.expression;
      if (ts.isIdentifier(callee)) {
        const imported = named.get(callee.text);
        if (imported) record(imported.module, imported.name, node);
        else if (
          ts.isNewExpression(node) &&
          /Command$/.test(callee.text) &&
          callee.text !== 'Command' &&
          !foreign.has(callee.text)
        )
          problems.push(`${where(node)}: new ${callee.text}(…) is not imported from an @aws-sdk client`);
      } else if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) {
        const module = namespaces.get(callee.expression.text);
        if (module) record(module, callee.name.text, node);
      }
      if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments[0] !== undefined &&
        ts.isStringLiteral(node.arguments[0]) &&
        node.arguments[0].text.startsWith('@aws-sdk/')
      )
        problems.push(`${where(node)}: dynamic import of ${node.arguments[0].text} is not scanned`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { uses, problems };
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (
      existsSync(join(dir, 'package.json')) &&
      existsSync(join(dir, 'core')) &&
      existsSync(join(dir, 'checks'))
    )
      return dir;
    const parent = dirname(dir);
    assert.notEqual(parent, dir, 'cannot find the repository root (package.json beside core/ and checks/)');
    dir = parent;
  }
}

function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...sourceFiles(path));
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts') && !entry.endsWith('.test.ts'))
      found.push(path);
  }
  return found.sort();
}

interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: string | string[];
  NotResource?: unknown;
}

const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const root = repoRoot();
const registry = awsApiRegistry();

function scanCode(): SourceScan {
  const uses: SdkUse[] = [];
  const problems: string[] = [];
  for (const file of [...sourceFiles(join(root, 'core')), ...sourceFiles(join(root, 'checks'))]) {
    const scan = scanSource(relative(root, file), readFileSync(file, 'utf8'));
    uses.push(...scan.uses);
    problems.push(...scan.problems);
  }
  return { uses, problems };
}

const code = scanCode();

/** An SDK use as (declared client, operation); undefined for calls that need no action. */
interface AttributedUse extends SdkUse {
  readonly call?: { readonly client: string; readonly operation: string };
  readonly problem?: string;
}

/** Which declared client's module exports the command, and which operation it is. */
async function attribute(use: SdkUse): Promise<AttributedUse> {
  if (use.symbol in CREDENTIAL_PROVIDER_CALLS)
    return { ...use, call: CREDENTIAL_PROVIDER_CALLS[use.symbol] ?? undefined };
  const [module = '', name = ''] = use.symbol.split('#');
  if (!CLIENT_MODULE.test(module))
    return { ...use, problem: 'a credential provider this test does not know' };
  const exported = Object.values((await import(module)) as Record<string, unknown>);
  const client = registry.declaredClients.find((declared) => exported.includes(declared.sdkClient));
  if (!client) return { ...use, problem: `no declared client is exported by ${module}` };
  const operation = name.replace(/Command$/, '').replace(/^(paginate|waitFor|waitUntil)/, '');
  return { ...use, call: { client: client.id, operation } };
}

const attributed = await Promise.all(code.uses.map(attribute));

test('the scanner follows aliases and namespaces, ignores types and comments, and flags what it cannot map', () => {
  const scan = scanSource(
    'sample.ts',
    [
      "import { GetStagesCommand as V2Stages, type GetApisCommand } from '@aws-sdk/client-apigatewayv2';",
      "import * as cw from '@aws-sdk/client-cloudwatch';",
      "import { paginateListFunctions } from '@aws-sdk/client-lambda';",
      "import { Command } from 'commander';",
      '// new ListMetricsCommand({}) in a comment is not a call',
      'new V2Stages({ ApiId: "a" });',
      'new cw.GetMetricDataCommand({});',
      'paginateListFunctions({ client }, {});',
      'new Command("dogwatch");',
      'new PutMetricDataCommand({});',
    ].join('\n'),
  );
  assert.deepEqual(
    scan.uses.map((use) => `${use.symbol} ${use.where}`),
    [
      '@aws-sdk/client-apigatewayv2#GetStagesCommand sample.ts:6',
      '@aws-sdk/client-cloudwatch#GetMetricDataCommand sample.ts:7',
      '@aws-sdk/client-lambda#paginateListFunctions sample.ts:8',
    ],
  );
  assert.equal(scan.problems.length, 1);
  assert.match(scan.problems[0]!, /sample\.ts:10: new PutMetricDataCommand/);
});

test('the scan of core/ and checks/ finds the AWS calls and nothing it cannot attribute', () => {
  assert.deepEqual(code.problems, []);
  assert.deepEqual(
    attributed.filter((use) => use.problem).map((use) => `${use.where}: ${use.symbol}: ${use.problem}`),
    [],
  );
  // A scan that finds nothing would make the other tests pass vacuously.
  assert.ok(code.uses.some((use) => use.symbol.endsWith('#GetMetricDataCommand')));
});

test('every AWS call in the code has a declared IAM action, and every declared action a call', () => {
  const undeclared = attributed.filter(
    (use) => use.call && registry.declaredIamAction(use.call.client, use.call.operation) === undefined,
  );
  assert.deepEqual(
    undeclared.map((use) => `${use.where}: ${use.call!.client} ${use.call!.operation}`),
    [],
    'declare the IAM action of these calls in the awsApis of their check (or in core/aws/core-aws-apis.ts)',
  );
  const called = new Set(
    attributed.flatMap((use) => (use.call ? [`${use.call.client} ${use.call.operation}`] : [])),
  );
  assert.deepEqual(
    registry
      .declaredOperations()
      .map((d) => `${d.clientId} ${d.operation}`)
      .filter((call) => !called.has(call)),
    [],
    'these declared calls are made nowhere in core/ or checks/: remove them from the declarations',
  );
});

test('iam/dogwatch-policy.json is what the declarations give (npm run iam:generate)', () => {
  assert.equal(readFileSync(POLICY_FILE, 'utf8'), policyText(registry));
});

test('iam/README.md holds the action table the declarations give (npm run iam:generate)', () => {
  assert.ok(readFileSync(README_FILE, 'utf8').includes(actionTable(registry)));
});

test('the policy is well formed and sts:AssumeRole is alone, on named roles only', () => {
  const policy = JSON.parse(readFileSync(POLICY_FILE, 'utf8')) as {
    Version: string;
    Statement: PolicyStatement[];
  };
  assert.equal(policy.Version, '2012-10-17');
  for (const statement of policy.Statement) {
    assert.equal(statement.Effect, 'Allow', `${statement.Sid}: only Allow statements`);
    assert.equal(statement.NotAction, undefined, `${statement.Sid}: no NotAction`);
    assert.equal(statement.NotResource, undefined, `${statement.Sid}: no NotResource`);
    for (const action of asList(statement.Action))
      assert.match(action, /^[a-z0-9-]+:[A-Za-z]+$/, 'no wildcards');
    assert.ok(asList(statement.Resource).length > 0, `${statement.Sid}: a Resource`);
  }
  const actions = policy.Statement.flatMap((s) => asList(s.Action));
  assert.equal(new Set(actions).size, actions.length, 'each action in one statement');
  const assume = policy.Statement.filter((s) => asList(s.Action).includes('sts:AssumeRole'));
  assert.equal(assume.length, 1);
  assert.deepEqual(asList(assume[0]!.Action), ['sts:AssumeRole'], 'AssumeRole in a statement of its own');
  for (const resource of asList(assume[0]!.Resource))
    assert.match(resource, /^arn:aws[a-z-]*:iam::\d{12}:role\/[^*]+$/, 'AssumeRole on named roles, never *');
  const apiGateway = policy.Statement.filter((s) => asList(s.Action).includes('apigateway:GET'));
  assert.ok(
    apiGateway.every((s) => !asList(s.Resource).includes('*')),
    'apigateway:GET on the paths the inventory reads, never *',
  );
});
