/**
 * The example stack: a WorkflowEngine running the workflows in `examples/`.
 * `npx cdk synth` works offline with no credentials; `npx cdk deploy` deploys it (docs/deploy.md).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { App, CfnOutput, Stack, Validations, type StackProps } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import type { Construct } from "constructs";
import { WorkflowEngine } from "./workflow-engine.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A stack holding one engine and the outputs a client needs. */
export class StageflowExampleStack extends Stack {
  readonly engine: WorkflowEngine;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.engine = new WorkflowEngine(this, "Engine", {
      registryEntry: path.join(repoRoot, "examples", "registry.ts"),
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, "package-lock.json"),
    });
    new CfnOutput(this, "ApiUrl", { value: this.engine.apiUrl, description: "Base URL of the stageflow API (IAM/SigV4)" });
    new CfnOutput(this, "EventBusName", { value: this.engine.eventBus.eventBusName, description: "Bus the workflow events are published on" });
    new CfnOutput(this, "TableName", { value: this.engine.table.tableName });
    new CfnOutput(this, "BucketName", { value: this.engine.bucket.bucketName });
  }
}

const app = new App();
new StageflowExampleStack(app, app.node.tryGetContext("stackName") ?? "Stageflow", {
  // Environment-agnostic unless the CLI provides one: synth needs no account or credentials.
  env: process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined,
});
// Findings fail the synth; acknowledged ones carry their reason next to the resource in code.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
app.synth();
