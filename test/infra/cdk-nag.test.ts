import { Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { synthEngine } from "./synth.js";

function acknowledgments(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id, reason }))),
  );
}

describe("cdk-nag on the WorkflowEngine", { timeout: 60_000 }, () => {
  const { app } = synthEngine();

  it("reports no unacknowledged AwsSolutions findings", () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(", ")}`)).toEqual([]);
  });

  it("reports no unacknowledged Serverless findings", () => {
    const report = new ServerlessChecks(app).validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(", ")}`)).toEqual([]);
  });

  it("gives every acknowledged rule a reason of its own", () => {
    const acks = acknowledgments(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThan(30);
  });

  it("reports no findings for an environment-agnostic stack either, where ARNs stay unresolved", async () => {
    const { App, Stack } = await import("aws-cdk-lib");
    const { WorkflowEngine } = await import("../../infra/workflow-engine.js");
    const { fixtureRegistry } = await import("./synth.js");
    const agnostic = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    new WorkflowEngine(new Stack(agnostic, "Agnostic"), "Engine", { registryEntry: fixtureRegistry });
    expect(new AwsSolutionsChecks(agnostic).validateScope(agnostic).violations).toEqual([]);
    expect(new ServerlessChecks(agnostic).validateScope(agnostic).violations).toEqual([]);
  });
});
