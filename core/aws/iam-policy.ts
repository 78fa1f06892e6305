import type { IamActionDeclaration } from './aws-api-declaration.js';
import { iamStatements } from './aws-api-registry.js';

export interface IamPolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
}

export interface IamPolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly IamPolicyStatement[];
}

/**
 * The IAM policy that grants exactly the declared actions (see AwsApiRegistry.iamActions): one Allow
 * statement per declared Sid, in order of first declaration, on the union of its declared resources.
 */
export function iamPolicyDocument(actions: readonly IamActionDeclaration[]): IamPolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: iamStatements(actions).map((statement) => ({
      Sid: statement.sid,
      Effect: 'Allow',
      Action: statement.actions,
      Resource:
        statement.resources.length === 1 && statement.resources[0] === '*' ? '*' : statement.resources,
    })),
  };
}

/**
 * The policy as iam/dogwatch-policy.json holds it: laid out as Prettier lays out JSON (objects one member
 * a line, a list of strings on one line when it fits in 110 columns), so the file passes `prettier --check`.
 */
export function renderIamPolicy(policy: IamPolicyDocument): string {
  return `${renderJson(policy, '')}\n`;
}

const PRINT_WIDTH = 110;

function renderJson(value: unknown, indent: string, prefixWidth = indent.length): string {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    const flat = `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
    // The line holds the key before the list and the comma after it.
    if (prefixWidth + flat.length + 1 <= PRINT_WIDTH) return flat;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value))
    return `[\n${value.map((item) => inner + renderJson(item, inner)).join(',\n')}\n${indent}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).map(([key, member]) => {
      const head = `${inner}${JSON.stringify(key)}: `;
      return head + renderJson(member, inner, head.length);
    });
    return `{\n${members.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}
