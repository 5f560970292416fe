/** Turns one model request into an `AICallRecord` with its cost, for the `AICallLogger`. */

import type { CreateAICallInput } from "../core/ai-call-logger.js";
import type { ModelSpec } from "./models/types.js";
import { computeCost } from "./pricing.js";
import type { CostSource, TokenUsage } from "./types.js";

export interface CallToRecord {
  topic: string;
  callType: string;
  model: ModelSpec;
  prompt: string;
  response: string;
  usage: TokenUsage;
  batch?: boolean;
  batchId?: string;
  usageEstimated?: boolean;
  metadata?: Record<string, unknown>;
}

export function costSourceOf(model: ModelSpec, usageEstimated = false): CostSource {
  if (model.offline) return "simulated";
  return usageEstimated ? "estimated" : "catalog";
}

/** The record to log, its cost computed from the catalog (batch-discounted for batch items). */
export function toCallRecord(call: CallToRecord): CreateAICallInput {
  const breakdown = computeCost(call.model, call.usage, { batch: call.batch });
  const offline = call.model.offline === true;
  return {
    topic: call.topic,
    callType: call.callType,
    modelKey: call.model.key,
    modelId: call.model.providerModelId,
    prompt: call.prompt,
    response: call.response,
    inputTokens: call.usage.inputTokens,
    outputTokens: call.usage.outputTokens,
    cachedInputTokens: call.usage.cachedInputTokens,
    cacheWriteInputTokens: call.usage.cacheWriteInputTokens,
    reasoningTokens: call.usage.reasoningTokens,
    cost: breakdown.total,
    costSource: costSourceOf(call.model, call.usageEstimated),
    offline,
    ...(call.batchId ? { batchId: call.batchId } : {}),
    metadata: {
      provider: call.model.provider,
      ...(offline ? { offline: true } : {}),
      ...(breakdown.discount ? { batchDiscount: breakdown.discount } : {}),
      ...call.metadata,
    },
  };
}
