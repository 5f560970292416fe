import { expectTypeOf, test } from "vitest";
import { z } from "zod";
import { defineStage } from "../../engine/core/stage.js";
import { WorkflowBuilder } from "../../engine/core/workflow.js";
import { createClient } from "../../engine/client/index.js";

const summarize = defineStage({
  id: "summarize",
  name: "Summarize",
  schemas: { input: z.object({ text: z.string() }), output: z.object({ summary: z.string() }), config: z.object({}) },
  async execute(ctx) {
    return { output: { summary: ctx.input.text.slice(0, 10) } };
  },
});
const summarizer = new WorkflowBuilder("summarizer", "Summarizer", "", z.object({ text: z.string() }), z.object({ summary: z.string() }))
  .pipe(summarize)
  .build();
const workflows = { summarizer };

test("a client typed from the user's workflows checks ids and inputs and types outputs", () => {
  const client = createClient<typeof workflows>({ endpoint: "http://localhost:4000", credentials: false });

  expectTypeOf(client.startRun).parameter(0).toEqualTypeOf<"summarizer">();
  expectTypeOf(client.startRun<"summarizer">).parameter(1).toEqualTypeOf<{ text: string }>();
  expectTypeOf(client.getRun<"summarizer">).returns.resolves.toHaveProperty("output").toEqualTypeOf<{ summary: string } | null>();
  // @ts-expect-error an unknown workflow id does not compile
  void client.startRun("nope", { text: "x" });
});
