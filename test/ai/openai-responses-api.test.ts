import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { z } from "zod";
import { tool } from "../../engine/ai/index.js";
import { FakeProviderServer } from "./support/fake-provider-server.js";
import { aiAgainst } from "./support/setup.js";

let server: FakeProviderServer;
beforeAll(async () => {
  server = await FakeProviderServer.start();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const responsesAI = () =>
  aiAgainst(server, { providers: { openai: { apiKey: "sk-test", baseURL: server.openaiBaseURL, api: "responses" } } });

it("uses the Responses API when configured, surfacing the reasoning summary and reasoning tokens", async () => {
  const { ai } = responsesAI();
  server.reply({ reasoning: "Compare both options first.", text: "Option B.", usage: { input: 500, cached: 100, output: 900, reasoning: 700 } });

  const result = await ai.generateText("openai/o4-mini", "A or B?", {
    system: "Be decisive.",
    providerOptions: { openai: { reasoning: { effort: "low", summary: "auto" } } },
  });

  expect(result.text).toBe("Option B.");
  expect(result.reasoning).toBe("Compare both options first.");
  expect(result.usage).toMatchObject({ inputTokens: 500, cachedInputTokens: 100, outputTokens: 900, reasoningTokens: 700 });
  // o4-mini: $1.10 input, $0.275 cached, $4.40 output per million.
  expect(result.cost).toBeCloseTo((400 * 1.1 + 100 * 0.275 + 900 * 4.4) / 1_000_000, 12);
  expect(server.requests[0].path).toBe("/openai/v1/responses");
  expect(server.requests[0].body).toMatchObject({ instructions: "Be decisive.", reasoning: { effort: "low", summary: "auto" } });
});

it("runs a tool loop over the Responses API, replaying the model's output items", async () => {
  const { ai } = responsesAI();
  const add = tool({ parameters: z.object({ a: z.number(), b: z.number() }), execute: ({ a, b }) => a + b });
  server.reply({ toolCalls: [{ name: "add", args: { a: 2, b: 3 }, id: "call_1" }] }, { text: "5" });

  const result = await ai.generateText("openai/gpt-4.1-mini", "2+3?", { tools: { add } });

  expect(result.text).toBe("5");
  const second = server.requests[1].body as { input: { type?: string; call_id?: string; output?: string }[] };
  expect(second.input).toContainEqual(expect.objectContaining({ type: "function_call", call_id: "call_1" }));
  expect(second.input).toContainEqual({ type: "function_call_output", call_id: "call_1", output: "5" });
});
