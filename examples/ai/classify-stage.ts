/**
 * A sync stage that makes one structured model call: the answer is validated by a zod schema (with
 * one automatic repair request), and its tokens and cost land on the stage and the run.
 *
 * Runs offline with `local/fast` by default; set `config.model` to a real model to use a provider.
 */

import { z } from "zod";
import { createAIHelper } from "../../engine/ai/index.js";
import { defineStage } from "../../engine/core/stage.js";

export const Classification = z.object({
  category: z.enum(["billing", "bug", "feature-request", "other"]),
  urgency: z.number().int().min(1).max(5),
  reason: z.string(),
});

export const classifyTicketStage = defineStage({
  id: "classify-ticket",
  name: "Classify ticket",
  description: "Classifies a support ticket with a structured model call",
  schemas: {
    input: z.object({ ticket: z.string().min(1) }),
    output: Classification.extend({ model: z.string(), cost: z.number() }),
    config: z.object({ model: z.string().default("local/fast") }),
  },
  async execute(ctx) {
    const ai = createAIHelper(ctx.aiTopic, ctx.aiCallLogger);
    const { object, cost } = await ai.generateObject(ctx.config.model, `Classify this support ticket:\n\n${ctx.input.ticket}`, Classification, {
      system: "You triage support tickets. Urgency 5 means customers are blocked.",
      temperature: 0,
      signal: ctx.signal,
    });
    return { output: { ...object, model: ctx.config.model, cost } };
  },
});
