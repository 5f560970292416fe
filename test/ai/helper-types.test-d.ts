import { expectTypeOf, it } from "vitest";
import { z } from "zod";
import { createAIHelper, tool, type AIHelper, type BatchItemResult } from "../../engine/ai/index.js";
import { InMemoryAICallLogger } from "../../engine/testing/in-memory-ai-call-logger.js";

declare const ai: AIHelper;

it("types generateObject's object by the schema", async () => {
  const { object } = await ai.generateObject("local/fast", "x", z.object({ n: z.number() }));
  expectTypeOf(object).toEqualTypeOf<{ n: number }>();
});

it("types a tool's arguments by its parameters", () => {
  tool({
    parameters: z.object({ city: z.string(), days: z.number().optional() }),
    execute: (args) => {
      expectTypeOf(args).toEqualTypeOf<{ city: string; days?: number | undefined }>();
      return args.city;
    },
  });
});

it("gives one vector for one text and a list for many", async () => {
  expectTypeOf((await ai.embed("local/embed", "a")).embedding).toEqualTypeOf<number[]>();
  expectTypeOf((await ai.embed("local/embed", ["a", "b"])).embeddings).toEqualTypeOf<number[][]>();
});

it("types batch item values by the schema, and as text without one", async () => {
  const typed = await ai.batch("local/fast", { schema: z.object({ summary: z.string() }) }).getResults("id");
  expectTypeOf(typed.items).toEqualTypeOf<BatchItemResult<{ summary: string }>[]>();
  const plain = await ai.batch("local/fast").getResults("id");
  expectTypeOf(plain.items).toEqualTypeOf<BatchItemResult<string>[]>();
});

it("accepts the kernel's optional logger", () => {
  const fromKernel: InMemoryAICallLogger | undefined = undefined;
  expectTypeOf(createAIHelper("workflow.r.stage.s", fromKernel)).toEqualTypeOf<AIHelper>();
});
