import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, InvalidWorkflowError, WorkflowBuilder } from "../../engine/index.js";

const N = z.object({ n: z.number() });

function stage(id: string, dependencies: string[] = []) {
  return defineStage({
    id,
    name: id,
    dependencies,
    // Any input: these tests are about the plan, not about what flows between stages.
    schemas: { input: z.unknown(), output: N, config: z.object({}) },
    execute: async () => ({ output: { n: 1 } }),
  });
}

const builder = () => new WorkflowBuilder("wf", "Workflow", "Test workflow", N, N);

describe("WorkflowBuilder.build", () => {
  it("lays stages out in execution groups: pipe adds a group of one, parallel a group of several", () => {
    const workflow = builder().pipe(stage("a")).parallel([stage("b"), stage("c")]).pipe(stage("d", ["b", "c"])).build();
    expect(workflow.executionGroups.map((g) => g.map((s) => s.id))).toEqual([["a"], ["b", "c"], ["d"]]);
    expect(workflow.getExecutionGroupIndex("c")).toBe(1);
    expect(workflow.getStageNumber("d")).toBe(3);
    expect(workflow.stageIds).toEqual(["a", "b", "c", "d"]);
    expect(workflow.describe().groups[1]).toEqual([
      { id: "b", name: "b", mode: "sync" },
      { id: "c", name: "c", mode: "sync" },
    ]);
  });

  it("rejects a duplicate stage id in different groups", () => {
    expect(() => builder().pipe(stage("a")).pipe(stage("a")).build()).toThrow(/duplicate stage id "a"/);
  });

  it("rejects a duplicate stage id inside one parallel group", () => {
    expect(() => builder().parallel([stage("a"), stage("a")]).build()).toThrow(InvalidWorkflowError);
  });

  it("rejects a dependency on a stage that is not in the workflow", () => {
    expect(() => builder().pipe(stage("a")).pipe(stage("b", ["ghost"])).build()).toThrow("Stage b depends on ghost which was not found");
  });

  it("rejects a dependency on a stage of the same parallel group", () => {
    expect(() => builder().parallel([stage("a"), stage("b", ["a"])]).build()).toThrow(/Stage b depends on a, which does not run before it/);
  });

  it("rejects a dependency on a stage of a later group", () => {
    expect(() => builder().pipe(stage("a", ["b"])).pipe(stage("b")).build()).toThrow(/Stage a depends on b, which does not run before it/);
  });

  it("rejects an empty workflow and an empty parallel group", () => {
    expect(() => builder().build()).toThrow(/has no stages/);
    expect(() => builder().parallel([])).toThrow(/needs at least one stage/);
  });
});
