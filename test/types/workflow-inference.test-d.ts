import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  createStageIds,
  defineAsyncBatchStage,
  defineStage,
  WorkflowBuilder,
  type InferStageOutput,
  type InferWorkflowContext,
  type InferWorkflowInput,
  type InferWorkflowOutput,
} from "../../engine/index.js";

const Input = z.object({ url: z.string() });

const extract = defineStage({
  id: "extract",
  name: "Extract",
  schemas: { input: Input, output: z.object({ text: z.string() }), config: z.object({ maxLength: z.number().default(100) }) },
  async execute(ctx) {
    expectTypeOf(ctx.input).toEqualTypeOf<{ url: string }>();
    expectTypeOf(ctx.config).toEqualTypeOf<{ maxLength: number }>();
    return { output: { text: ctx.input.url.slice(0, ctx.config.maxLength) } };
  },
});

const summarize = defineStage({
  id: "summarize",
  name: "Summarize",
  schemas: { input: z.object({ text: z.string() }), output: z.object({ summary: z.string() }), config: z.object({}) },
  execute: async (ctx) => ({ output: { summary: ctx.input.text } }),
});

const classify = defineStage({
  id: "classify",
  name: "Classify",
  schemas: { input: z.object({ text: z.string() }), output: z.object({ label: z.enum(["a", "b"]) }), config: z.object({}) },
  execute: async () => ({ output: { label: "a" as const } }),
});

const report = defineStage({
  id: "report",
  name: "Report",
  dependencies: [extract, classify],
  schemas: { input: "none", output: z.object({ line: z.string() }), config: z.object({}) },
  async execute(ctx) {
    expectTypeOf(ctx.require("extract")).toEqualTypeOf<{ text: string }>();
    expectTypeOf(ctx.require("classify")).toEqualTypeOf<{ label: "a" | "b" }>();
    expectTypeOf(ctx.optional("classify")).toEqualTypeOf<{ label: "a" | "b" } | undefined>();
    // @ts-expect-error summarize is not a declared dependency
    ctx.require("summarize");
    return { output: { line: `${ctx.require("classify").label}: ${ctx.require("extract").text}` } };
  },
});

const workflow = new WorkflowBuilder("doc", "Documents", "", Input, z.object({ line: z.string() }))
  .pipe(extract)
  .parallel([summarize, classify])
  .pipe(report)
  .build();

describe("type inference through a workflow", () => {
  it("infers the workflow input from its schema", () => {
    expectTypeOf<InferWorkflowInput<typeof workflow>>().toEqualTypeOf<{ url: string }>();
  });

  it("infers the output as the last group's output", () => {
    expectTypeOf<InferWorkflowOutput<typeof workflow>>().toEqualTypeOf<{ line: string }>();
  });

  it("keys a parallel group's output by stage id", () => {
    const fanOut = new WorkflowBuilder("fan", "Fan", "", Input, z.unknown()).pipe(extract).parallel([summarize, classify]).build();
    expectTypeOf<InferWorkflowOutput<typeof fanOut>>().toEqualTypeOf<{ summarize: { summary: string }; classify: { label: "a" | "b" } }>();
  });

  it("collects every stage's output in the workflow context by id", () => {
    type Context = InferWorkflowContext<typeof workflow>;
    expectTypeOf<Context["extract"]>().toEqualTypeOf<{ text: string }>();
    expectTypeOf<Context["report"]>().toEqualTypeOf<{ line: string }>();
  });

  it("types a stage's output from its schema", () => {
    expectTypeOf<InferStageOutput<typeof classify>>().toEqualTypeOf<{ label: "a" | "b" }>();
  });

  it("types createStageIds from the workflow's stage ids", () => {
    const ids = createStageIds(workflow);
    expectTypeOf(ids.EXTRACT).toEqualTypeOf<"extract">();
    expectTypeOf(ids.SUMMARIZE).toEqualTypeOf<"summarize">();
  });

  it("types async-batch stages like sync ones", () => {
    const batch = defineAsyncBatchStage({
      id: "batch",
      name: "Batch",
      schemas: { input: z.object({ text: z.string() }), output: z.object({ n: z.number() }), config: z.object({}) },
      async execute(ctx) {
        expectTypeOf(ctx.input).toEqualTypeOf<{ text: string }>();
        return { output: { n: 1 } };
      },
      async checkCompletion() {
        return { ready: true, output: { n: 2 } };
      },
    });
    const withBatch = new WorkflowBuilder("b", "B", "", Input, z.unknown()).pipe(extract).pipe(batch).build();
    expectTypeOf<InferWorkflowOutput<typeof withBatch>>().toEqualTypeOf<{ n: number }>();
  });

  it("rejects piping a stage whose input does not accept the previous output", () => {
    const wantsNumber = defineStage({
      id: "wants-number",
      name: "Wants number",
      schemas: { input: z.object({ count: z.number() }), output: z.object({}), config: z.object({}) },
      execute: async () => ({ output: {} }),
    });
    new WorkflowBuilder("bad", "Bad", "", Input, z.unknown())
      .pipe(extract)
      // @ts-expect-error extract outputs { text } but wants-number needs { count }
      .pipe(wantsNumber);
  });

  it("rejects a sync stage returning output of the wrong shape", () => {
    defineStage({
      id: "wrong",
      name: "Wrong",
      schemas: { input: Input, output: z.object({ n: z.number() }), config: z.object({}) },
      // @ts-expect-error n must be a number
      execute: async () => ({ output: { n: "one" } }),
    });
  });
});
