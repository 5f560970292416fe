import { Stack } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/**
 * The finding id cdk-nag's AwsSolutions-IAM5 reports for a wildcard resource, e.g.
 * `AwsSolutions-IAM5[Resource::<Table.Arn>/index/*]`. Computed the way cdk-nag flattens
 * CloudFormation references, so an acknowledgment names exactly that one resource whether the
 * stack has a fixed account and region or not.
 */
export function iamWildcardFindingId(scope: IConstruct, resourceArn: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(resourceArn))}]`;
}

function flatten(node: unknown): string {
  if (node === undefined) return "";
  if (typeof node === "string") return node.replace(/\$\{/g, "<").replace(/\}/g, ">");
  if (typeof node === "object" && node !== null) {
    const record = node as Record<string, unknown>;
    if ("Fn::Join" in record) {
      const [delimiter, items] = record["Fn::Join"] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if ("Fn::Sub" in record) return flatten(record["Fn::Sub"]);
    if ("Fn::GetAtt" in record) {
      const [resource, attribute] = record["Fn::GetAtt"] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if ("Ref" in record) return `<${flatten(record.Ref)}>`;
  }
  return JSON.stringify(node);
}
