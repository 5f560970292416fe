import { describe, expect, it } from "vitest";
import { AIError, listModels, registerModels, resolveModel, type ModelSpec } from "../../engine/ai/index.js";
import { FakeProviderServer } from "./support/fake-provider-server.js";
import { aiAgainst } from "./support/setup.js";

const custom: ModelSpec = {
  key: "openai/acme-finetune",
  provider: "openai",
  providerModelId: "ft:gpt-4.1-mini:acme::abc123",
  kind: "text",
  contextWindow: 1_047_576,
  pricing: { inputPerMillion: 0.8, cachedInputPerMillion: 0.2, outputPerMillion: 3.2, batchDiscount: 0.5 },
  source: { url: "https://platform.openai.com/docs/pricing", checkedAt: "2025-10-01" },
};

describe("the model catalog", () => {
  it("gives every built-in model a provider id, a context window, prices and their source and date", () => {
    const models = listModels();
    expect(models.length).toBeGreaterThan(10);
    for (const m of models) {
      expect(m.key.startsWith(`${m.provider}/`)).toBe(true);
      expect(m.providerModelId).toBeTruthy();
      expect(m.contextWindow).toBeGreaterThan(0);
      expect(m.pricing.inputPerMillion).toBeGreaterThanOrEqual(0);
      expect(m.pricing.batchDiscount).toBe(0.5);
      expect(m.source.url).toMatch(/^(https:\/\/|stageflow:local)/);
      expect(m.source.checkedAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it("lists by provider and by kind, and marks local models offline", () => {
    expect(listModels({ provider: "anthropic" }).every((m) => m.provider === "anthropic")).toBe(true);
    expect(listModels({ kind: "embedding" }).map((m) => m.key)).toContain("openai/text-embedding-3-small");
    expect(listModels({ provider: "local" }).every((m) => m.offline)).toBe(true);
  });

  describe("registerModels", () => {
    it("adds a custom model that calls its provider with its own id and is priced from its entry", async () => {
      registerModels([custom]);
      const server = await FakeProviderServer.start();
      try {
        const { ai } = aiAgainst(server);
        server.reply({ text: "hi", usage: { input: 1_000_000, output: 1_000_000 } });

        const result = await ai.generateText("openai/acme-finetune", "hello");

        expect((server.requests[0].body as { model: string }).model).toBe("ft:gpt-4.1-mini:acme::abc123");
        expect(result.cost).toBeCloseTo(0.8 + 3.2, 12);
        expect(listModels().map((m) => m.key)).toContain("openai/acme-finetune");
      } finally {
        await server.close();
      }
    });

    it("replaces an entry with the same key, e.g. to correct a price", () => {
      registerModels([custom]);
      registerModels([{ ...custom, pricing: { ...custom.pricing, inputPerMillion: 0.7 } }]);
      expect(resolveModel("openai/acme-finetune").pricing.inputPerMillion).toBe(0.7);
    });

    it("rejects an entry with a negative price, a wrong prefix or no source", () => {
      expect(() => registerModels([{ ...custom, pricing: { ...custom.pricing, outputPerMillion: -1 } }])).toThrow(AIError);
      expect(() => registerModels([{ ...custom, key: "anthropic/acme" }])).toThrow(/must start with "openai\/"/);
      expect(() => registerModels([{ ...custom, source: { url: "", checkedAt: "" } }])).toThrow(/source/);
    });
  });
});
