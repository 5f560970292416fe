import type { Template } from "aws-cdk-lib/assertions";

type Resource = { Type: string; Properties: Record<string, unknown> };
export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

export function resources(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.findResources(type)) as [string, Resource][];
}

/** Logical id of the Lambda function whose construct path contains `name` (Api, Worker, ...). */
export function functionId(template: Template, name: string): string {
  const match = resources(template, "AWS::Lambda::Function").filter(([id]) => id.startsWith(`Engine${name}Function`));
  if (match.length !== 1) throw new Error(`expected one function named ${name}, found ${match.map(([id]) => id)}`);
  return match[0][0];
}

/** Every IAM statement attached to the role of one engine function. */
export function statementsOf(template: Template, name: string): Statement[] {
  const fn = template.findResources("AWS::Lambda::Function")[functionId(template, name)] as Resource;
  const roleRef = JSON.stringify((fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0]);
  return resources(template, "AWS::IAM::Policy")
    .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(roleRef))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

export function actionsOf(statements: Statement[]): Set<string> {
  return new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
}

/** Actions granted on any resource whose reference mentions `logicalIdPrefix`. */
export function actionsOn(statements: Statement[], logicalIdPrefix: string): Set<string> {
  return actionsOf(statements.filter((s) => JSON.stringify(s.Resource).includes(logicalIdPrefix)));
}
