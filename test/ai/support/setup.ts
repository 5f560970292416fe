/** Builds an AI helper whose providers all point at the fake server, with retries that do not sleep. */

import { createAIHelper, type AIHelper, type AIHelperOptions } from "../../../engine/ai/index.js";
import { InMemoryAICallLogger } from "../../../engine/testing/in-memory-ai-call-logger.js";
import type { FakeProviderServer } from "./fake-provider-server.js";

export const TOPIC = "workflow.run-1.stage.summarize";

export interface TestAI {
  ai: AIHelper;
  logger: InMemoryAICallLogger;
  /** Delays the helper asked to wait between retries, in order. */
  sleeps: number[];
}

export function aiAgainst(server: FakeProviderServer, options: AIHelperOptions = {}): TestAI {
  const clock = { now: () => new Date("2025-10-01T12:00:00Z") };
  const logger = new InMemoryAICallLogger({ clock });
  const sleeps: number[] = [];
  const ai = createAIHelper(TOPIC, logger, {
    clock,
    ...options,
    providers: {
      openai: { apiKey: "sk-test", baseURL: server.openaiBaseURL },
      anthropic: { apiKey: "sk-ant-test", baseURL: server.anthropicBaseURL },
      google: { apiKey: "gemini-test", baseURL: server.googleBaseURL },
      ...options.providers,
    },
    retry: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      ...options.retry,
    },
  });
  return { ai, logger, sleeps };
}
