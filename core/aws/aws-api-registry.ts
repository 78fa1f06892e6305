import type {
  AwsApiDeclaration,
  AwsClientDeclaration,
  AwsQuotaDeclaration,
  AwsSdkClient,
  IamActionDeclaration,
  OwnedAwsApiDeclaration,
} from './aws-api-declaration.js';
import { coreAwsApis } from './core-aws-apis.js';

/** A request budget as the rate limiter applies it. */
export interface ApiQuota {
  readonly name: string;
  readonly requestsPerSecond: number;
}

/** What the rate limiter needs: the budget a call draws from, if any. */
export interface ApiQuotaTable {
  quotaOf(clientId: string, operation: string): ApiQuota | undefined;
}

/** An IAM action with the owner that declared it. */
export interface OwnedIamAction extends IamActionDeclaration {
  readonly owner: string;
}

/** Core's declaration first, then each check's, in binding order. */
export function awsApiDeclarations(
  definitions: readonly { readonly name: string; readonly awsApis?: readonly AwsApiDeclaration[] }[],
): OwnedAwsApiDeclaration[] {
  const owned = (owner: string, declaration: AwsApiDeclaration): OwnedAwsApiDeclaration => ({
    owner,
    ...declaration,
  });
  return [
    owned('core', coreAwsApis),
    ...definitions.flatMap((d) => (d.awsApis ?? []).map((declaration) => owned(d.name, declaration))),
  ];
}

const sameClient = (a: AwsClientDeclaration, b: AwsClientDeclaration): boolean =>
  a.id === b.id && a.sdkClient === b.sdkClient && a.service === b.service && a.iamPrefix === b.iamPrefix;

/** The operations that need an action: declared, or the action's name (`lambda:ListFunctions`). */
export const iamActionOperations = (action: IamActionDeclaration): readonly string[] =>
  action.operations ?? [action.action.slice(action.action.indexOf(':') + 1)];

/**
 * Every AWS API the process may call, merged from the declarations of core and of the bound checks. The
 * client factory builds only declared clients, the rate limiter applies the declared quotas, and the IAM
 * policy lists the declared actions. Construction validates the declarations together and throws naming
 * the owners of any conflict: two declarations of one client id that differ, an operation drawing from
 * two quotas, an action in two statements, a statement whose actions want different resources.
 */
export class AwsApiRegistry implements ApiQuotaTable {
  private readonly clients = new Map<string, { client: AwsClientDeclaration; owner: string }>();
  private readonly quotas = new Map<
    string,
    { quota: ApiQuota; declared: AwsQuotaDeclaration; owner: string }
  >();
  /** `<client id>|<operation>` or `<client id>|*` → quota name. */
  private readonly quotaByCall = new Map<string, string>();
  /** `<client id>|<operation>` → IAM action. */
  private readonly actionByCall = new Map<string, string>();
  private readonly actions: OwnedIamAction[] = [];

  /**
   * @param overrides requests per second by quota name, replacing the declared rate (a daemon whose
   *   account has a raised quota, a test). An unknown name throws.
   */
  constructor(
    readonly declarations: readonly OwnedAwsApiDeclaration[],
    overrides: Readonly<Record<string, number>> = {},
  ) {
    for (const declaration of declarations)
      for (const client of declaration.clients) this.addClient(client, declaration.owner);
    for (const declaration of declarations) {
      for (const quota of declaration.quotas) this.addQuota(quota, declaration.owner);
      for (const action of declaration.iamActions) this.addAction(action, declaration.owner);
    }
    this.checkStatements();
    for (const [name, requestsPerSecond] of Object.entries(overrides)) {
      const entry = this.quotas.get(name);
      if (!entry)
        throw new Error(
          `quota override "${name}" names no declared quota; declared: ${[...this.quotas.keys()].join(', ')}`,
        );
      this.quotas.set(name, { ...entry, quota: { name, requestsPerSecond } });
    }
  }

  /** `declared`, if some declaration declares it; throws otherwise (its calls would escape the quotas). */
  declaredClient<C extends AwsSdkClient>(declared: AwsClientDeclaration<C>): AwsClientDeclaration<C> {
    const known = this.clients.get(declared.id);
    if (!known || !sameClient(known.client, declared))
      throw new Error(
        `AWS client "${declared.id}" is not declared: add it to the \`clients\` of the awsApis of the check ` +
          'that uses it (see core/aws/aws-api-declaration.ts)',
      );
    return declared;
  }

  quotaOf(clientId: string, operation: string): ApiQuota | undefined {
    const name = this.quotaByCall.get(`${clientId}|${operation}`) ?? this.quotaByCall.get(`${clientId}|*`);
    return name === undefined ? undefined : this.quotas.get(name)?.quota;
  }

  /** The IAM action an operation needs: the declared one, else `<IAM prefix>:<operation>`. */
  iamActionOf(client: AwsClientDeclaration, operation: string): string {
    return this.declaredIamAction(client.id, operation) ?? `${client.iamPrefix}:${operation}`;
  }

  /** The IAM action declared for an operation of a client, if any. */
  declaredIamAction(clientId: string, operation: string): string | undefined {
    return this.actionByCall.get(`${clientId}|${operation}`);
  }

  /** Every (client, operation) an IAM action is declared for. */
  declaredOperations(): { clientId: string; operation: string; action: string }[] {
    return [...this.actionByCall].map(([call, action]) => {
      const [clientId = '', operation = ''] = call.split('|');
      return { clientId, operation, action };
    });
  }

  /** Every declared client. */
  get declaredClients(): readonly AwsClientDeclaration[] {
    return [...this.clients.values()].map((entry) => entry.client);
  }

  /** Every declared IAM action, in declaration order (an action two owners declare appears twice). */
  get iamActions(): readonly OwnedIamAction[] {
    return this.actions;
  }

  private addClient(client: AwsClientDeclaration, owner: string): void {
    const known = this.clients.get(client.id);
    if (known && !sameClient(known.client, client))
      throw new Error(
        `AWS client "${client.id}" is declared differently by ${known.owner} and by ${owner}: ` +
          'give one of them another id, or share one declaration',
      );
    if (!known) this.clients.set(client.id, { client, owner });
  }

  private requireClient(client: AwsClientDeclaration, owner: string, what: string): void {
    const known = this.clients.get(client.id);
    if (!known || !sameClient(known.client, client))
      throw new Error(
        `${owner}: ${what} names AWS client "${client.id}", which no \`clients\` list declares`,
      );
  }

  private addQuota(declared: AwsQuotaDeclaration, owner: string): void {
    const what = `quota "${declared.name}"`;
    if (!(declared.requestsPerSecond > 0))
      throw new Error(`${owner}: ${what} must allow more than 0 requests per second`);
    const known = this.quotas.get(declared.name);
    if (known) {
      if (JSON.stringify(quotaShape(known.declared)) !== JSON.stringify(quotaShape(declared)))
        throw new Error(`${what} is declared differently by ${known.owner} and by ${owner}`);
      return;
    }
    this.quotas.set(declared.name, {
      quota: { name: declared.name, requestsPerSecond: declared.requestsPerSecond },
      declared,
      owner,
    });
    for (const client of declared.clients) {
      this.requireClient(client, owner, what);
      for (const operation of declared.operations ?? ['*']) {
        const call = `${client.id}|${operation}`;
        const other = this.quotaByCall.get(call);
        if (other !== undefined)
          throw new Error(
            `${owner}: ${client.id} ${operation} draws from both quota "${other}" and ${what}; ` +
              'one operation draws from one quota',
          );
        this.quotaByCall.set(call, declared.name);
      }
    }
  }

  private addAction(action: IamActionDeclaration, owner: string): void {
    const what = `IAM action ${action.action}`;
    this.requireClient(action.client, owner, what);
    if (!action.action.startsWith(`${action.client.iamPrefix}:`))
      throw new Error(
        `${owner}: ${what} is not an action of ${action.client.id} (${action.client.iamPrefix}:…)`,
      );
    for (const operation of iamActionOperations(action)) {
      const call = `${action.client.id}|${operation}`;
      const other = this.actionByCall.get(call);
      if (other !== undefined && other !== action.action)
        throw new Error(`${owner}: ${action.client.id} ${operation} needs ${other} and ${action.action}`);
      this.actionByCall.set(call, action.action);
    }
    this.actions.push({ ...action, owner });
  }

  /**
   * One statement per action, and the actions of a statement on the same resources: IAM grants every
   * action of a statement on every resource of it, so two actions on different resources in one statement
   * would grant each on the other's. One action declared twice (API Gateway v1 and v2 both need
   * apigateway:GET) gets the union of its resources.
   */
  private checkStatements(): void {
    const statementOf = new Map<string, OwnedIamAction>();
    for (const action of this.actions) {
      const first = statementOf.get(action.action);
      if (first && first.statement !== action.statement)
        throw new Error(
          `${action.action} is in statement ${first.statement} (${first.owner}) and ${action.statement} ` +
            `(${action.owner}): one action, one statement`,
        );
      statementOf.set(action.action, first ?? action);
    }
    for (const statement of iamStatements(this.actions)) {
      const [first, ...others] = statement.actions;
      const resourcesOf = (action: string): string =>
        JSON.stringify(resourcesOfAction(this.actions, statement.sid, action));
      const different = others.find((action) => resourcesOf(action) !== resourcesOf(first!));
      if (different !== undefined)
        throw new Error(
          `statement ${statement.sid}: ${first} and ${different} are declared on different resources; ` +
            'give one of them its own statement',
        );
    }
  }
}

/** One IAM policy statement: the actions declared with its Sid and the union of their resources. */
export interface IamStatement {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** The statements of declared actions, in order of first declaration; actions and resources in order too. */
export function iamStatements(actions: readonly IamActionDeclaration[]): IamStatement[] {
  const statements = new Map<string, { actions: Set<string>; resources: Set<string> }>();
  for (const action of actions) {
    let statement = statements.get(action.statement);
    if (!statement)
      statements.set(action.statement, (statement = { actions: new Set(), resources: new Set() }));
    statement.actions.add(action.action);
    for (const resource of action.resources ?? ['*']) statement.resources.add(resource);
  }
  return [...statements].map(([sid, s]) => ({ sid, actions: [...s.actions], resources: [...s.resources] }));
}

function resourcesOfAction(actions: readonly IamActionDeclaration[], sid: string, action: string): string[] {
  const resources = actions
    .filter((a) => a.statement === sid && a.action === action)
    .flatMap((a) => a.resources ?? ['*']);
  return [...new Set(resources)].sort();
}

function quotaShape(quota: AwsQuotaDeclaration): unknown {
  return [quota.clients.map((c) => c.id), quota.operations ?? null, quota.requestsPerSecond];
}
