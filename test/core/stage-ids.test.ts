import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  assertValidStageId,
  createStageIds,
  defineStage,
  defineStageIds,
  InvalidStageDefinitionError,
  isValidStageId,
  WorkflowBuilder,
} from "../../engine/index.js";

describe("stage ids", () => {
  it("accepts lowercase ids with digits, dashes and underscores", () => {
    for (const id of ["extract", "extract-text", "step_2", "a1-b2_c3"]) expect(isValidStageId(id)).toBe(true);
  });

  it("refuses ids that are not lowercase words joined by dashes or underscores", () => {
    for (const id of ["", "Extract", "-lead", "trail-", "two--dashes", "with space", "9start", "a".repeat(65), 42, null]) {
      expect(isValidStageId(id)).toBe(false);
    }
  });

  it("assertValidStageId explains what a valid id looks like", () => {
    expect(() => assertValidStageId("Bad Id")).toThrow(InvalidStageDefinitionError);
    expect(() => assertValidStageId("Bad Id")).toThrow(/lowercase letters, digits/);
    expect(() => assertValidStageId("good-id")).not.toThrow();
  });

  it("defineStageIds maps constant names to ids", () => {
    const STAGES = defineStageIds(["extract-text", "summarize", "score_2"] as const);
    expect(STAGES).toEqual({ EXTRACT_TEXT: "extract-text", SUMMARIZE: "summarize", SCORE_2: "score_2" });
    expect(Object.isFrozen(STAGES)).toBe(true);
    expect(() => defineStageIds(["Not Valid"])).toThrow(InvalidStageDefinitionError);
  });

  it("createStageIds takes the ids of a built workflow", () => {
    const N = z.object({ n: z.number() });
    const make = (id: string) =>
      defineStage({ id, name: id, schemas: { input: N, output: N, config: z.object({}) }, execute: async (ctx) => ({ output: ctx.input }) });
    const workflow = new WorkflowBuilder("ids", "Ids", "", N, N).pipe(make("load-data")).parallel([make("left"), make("right")]).build();
    expect(createStageIds(workflow)).toEqual({ LOAD_DATA: "load-data", LEFT: "left", RIGHT: "right" });
  });
});
