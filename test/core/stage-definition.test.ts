import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  defineAsyncBatchStage,
  defineStage,
  InvalidStageDefinitionError,
  type CompletionCheckResult,
  type SuspendedState,
} from "../../engine/index.js";

const schemas = { input: z.object({ n: z.number() }), output: z.object({ n: z.number() }), config: z.object({}) };

describe("defineStage", () => {
  it("returns a frozen sync stage carrying its schemas, dependencies and retry policy", () => {
    const stage = defineStage({
      id: "double",
      name: "Double",
      description: "Doubles n",
      dependencies: ["earlier"],
      retry: { maxAttempts: 5 },
      schemas,
      async execute(ctx) {
        return { output: { n: ctx.input.n * 2 } };
      },
    });
    expect(stage.mode).toBe("sync");
    expect(stage.id).toBe("double");
    expect(stage.dependencies).toEqual(["earlier"]);
    expect(stage.retry).toEqual({ maxAttempts: 5 });
    expect(stage.outputSchema).toBe(schemas.output);
    expect(Object.isFrozen(stage)).toBe(true);
  });

  it("accepts stage objects as dependencies and records their ids", () => {
    const first = defineStage({ id: "first", name: "First", schemas, execute: async (ctx) => ({ output: ctx.input }) });
    const second = defineStage({
      id: "second",
      name: "Second",
      dependencies: [first],
      schemas: { ...schemas, input: "none" },
      execute: async (ctx) => ({ output: ctx.require("first") }),
    });
    expect(second.dependencies).toEqual(["first"]);
  });

  it("gives a stage with input 'none' a schema that accepts any object", () => {
    const stage = defineStage({
      id: "reader",
      name: "Reader",
      schemas: { ...schemas, input: "none" },
      execute: async () => ({ output: { n: 1 } }),
    });
    expect(stage.inputSchema.safeParse({ anything: true }).success).toBe(true);
  });

  it.each([
    ["an upper-case id", "Extract"],
    ["an id with spaces", "extract text"],
    ["an id starting with a digit", "1-extract"],
    ["an empty id", ""],
    ["an id longer than 64 characters", "a".repeat(65)],
  ])("rejects %s", (_, id) => {
    expect(() => defineStage({ id, name: "X", schemas, execute: async (ctx) => ({ output: ctx.input }) })).toThrow(
      InvalidStageDefinitionError,
    );
  });

  it("rejects a stage without a name", () => {
    expect(() => defineStage({ id: "nameless", name: "", schemas, execute: async (ctx) => ({ output: ctx.input }) })).toThrow(
      /needs a name/,
    );
  });

  it("rejects a stage missing one of its schemas", () => {
    const incomplete = { input: schemas.input, output: schemas.output } as unknown as typeof schemas;
    expect(() => defineStage({ id: "no-config", name: "No config", schemas: incomplete, execute: async (ctx) => ({ output: ctx.input }) })).toThrow(
      /schemas\.input, schemas\.output and schemas\.config/,
    );
  });
});

describe("defineAsyncBatchStage", () => {
  const checkCompletion = async (): Promise<CompletionCheckResult<{ n: number }>> => ({ ready: true, output: { n: 1 } });

  it("returns an async-batch stage with its checkCompletion", () => {
    const stage = defineAsyncBatchStage({
      id: "batch",
      name: "Batch",
      schemas,
      async execute() {
        const state: SuspendedState = { batchId: "b1", submittedAt: "2030-01-01T00:00:00.000Z", pollInterval: 1000, maxWaitTime: 60_000 };
        return { suspended: true, state, pollConfig: { pollInterval: 1000, maxWaitTime: 60_000 } };
      },
      checkCompletion,
    });
    expect(stage.mode).toBe("async-batch");
    expect(typeof stage.checkCompletion).toBe("function");
  });

  it("rejects an async-batch stage without checkCompletion", () => {
    const definition = {
      id: "batch",
      name: "Batch",
      schemas,
      execute: async () => ({ output: { n: 1 } }),
    } as unknown as Parameters<typeof defineAsyncBatchStage>[0];
    expect(() => defineAsyncBatchStage(definition)).toThrow(/needs a checkCompletion function/);
  });

  it("validates the id like a sync stage", () => {
    expect(() => defineAsyncBatchStage({ id: "Bad Id", name: "Batch", schemas, execute: async () => ({ output: { n: 1 } }), checkCompletion })).toThrow(
      InvalidStageDefinitionError,
    );
  });
});
