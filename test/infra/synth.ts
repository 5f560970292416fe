import path from "node:path";
import { fileURLToPath } from "node:url";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { WorkflowEngine, type WorkflowEngineProps } from "../../infra/workflow-engine.js";

export const fixtureRegistry = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "registry.ts");

/** Synthesizes a stack holding one engine, with bundling skipped (tests never run esbuild). */
export function synthEngine(
  props: Partial<WorkflowEngineProps> | ((stack: Stack) => Partial<WorkflowEngineProps>) = {},
  configure?: (stack: Stack, engine: WorkflowEngine) => void,
) {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new Stack(app, "TestStack", { env: { account: "123456789012", region: "eu-west-1" } });
  const engine = new WorkflowEngine(stack, "Engine", {
    registryEntry: fixtureRegistry,
    ...(typeof props === "function" ? props(stack) : props),
  });
  configure?.(stack, engine);
  return { app, stack, engine, template: Template.fromStack(stack) };
}
