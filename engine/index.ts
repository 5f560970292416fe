/**
 * stageflow: type-safe, durable workflows for AI pipelines on AWS.
 * This entry loads no AWS or AI SDK; those live in `stageflow/aws` and `stageflow/ai`.
 */
export * from "./core/index.js";
export { createKernel, type Kernel, type KernelConfig } from "./kernel/index.js";
export {
  definePlugin,
  createPluginRunner,
  IdempotencyInProgressError,
  ValidationError,
  StageValidationError,
  WorkflowNotFoundError,
  RunNotFoundError,
  InvalidStateError,
  PersistenceConflictError,
} from "./kernel/index.js";
export type { KernelCommand, CommandResult, KernelEvent, KernelEventType, PublishedEvent } from "./kernel/index.js";
// The AI helper loads provider SDKs lazily, on a model's first use.
export { createAIHelper, type AIHelper, type AIHelperOptions } from "./ai/index.js";
