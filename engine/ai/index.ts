/**
 * `stageflow/ai`: the AI helper, the model catalog and prices, and provider batches.
 * Importing this module loads no provider SDK; each is imported on its first use.
 */

export { createAIHelper, type AIHelper, type AIHelperOptions } from "./helper.js";
export type { CallOptions } from "./runtime.js";
export type { GenerateTextOptions, GenerateTextResult, StepResult } from "./text.js";
export { DEFAULT_MAX_STEPS } from "./text.js";
export type { GenerateObjectOptions, GenerateObjectResult } from "./object.js";
export type { StreamTextResult } from "./stream.js";
export type { EmbedOptions, EmbedResult, EmbedManyResult } from "./embed.js";
export { tool, type AITool, type AnyAITool, type ToolSet, type ToolExecutionContext } from "./tools.js";
export type {
  AIBatch,
  BatchOptions,
  BatchRequest,
  BatchSubmission,
  BatchStatus,
  BatchResults,
  BatchItemResult,
  BatchItemSuccess,
  BatchItemFailure,
} from "./batch/client.js";
export type { BatchState } from "./providers/types.js";
export { registerModels, listModels, resolveModel } from "./models/catalog.js";
export type { ModelSpec, ModelPricing } from "./models/types.js";
export { computeCost, type CostBreakdown } from "./pricing.js";
export { configureAIProviders } from "./providers/registry.js";
export type {
  ApiKeySource,
  ProviderConfig,
  OpenAIProviderConfig,
  LocalProviderConfig,
  ProvidersConfig,
} from "./providers/types.js";
export { API_KEY_ENV_VARS } from "./providers/sdk.js";
export type { RetryOptions } from "./retry.js";
export * from "./errors.js";
export type {
  ProviderName,
  TokenUsage,
  CostSource,
  ProviderOptions,
  FinishReason,
  AIMessage,
  Prompt,
  ToolCall,
  ToolResult,
  CallResultBase,
} from "./types.js";
