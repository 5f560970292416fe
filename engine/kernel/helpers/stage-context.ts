import { stageTopic } from "../../core/ai-call-logger.js";
import type { CheckCompletionContext, ProgressUpdate, StageContext, StageStorage } from "../../core/stage.js";
import type { LogLevel, SuspendedState } from "../../core/types.js";
import type { KernelDeps } from "../deps.js";
import { MissingStageOutputError } from "../errors.js";
import type { CreateLogInput } from "../records.js";
import { blobKeys } from "./stored-values.js";

/** Stage context plus what the kernel needs to read back from it. */
export type KernelStageContext = StageContext<unknown, unknown, Record<string, unknown>>;

export function createStageStorage(deps: KernelDeps, workflowRunId: string, stageId: string): StageStorage {
  const prefix = blobKeys.artifact(workflowRunId, stageId, "");
  return {
    save: (key, data) => deps.blobStore.put(prefix + key, data),
    load: async <T>(key: string) => (await deps.blobStore.get(prefix + key)) as T,
    exists: (key) => deps.blobStore.has(prefix + key),
    delete: (key) => deps.blobStore.delete(prefix + key),
    list: async () => (await deps.blobStore.list(prefix)).map((k) => k.slice(prefix.length)),
  };
}

export function createLogCollector(workflowRunId: string, stageId: string) {
  const logs: CreateLogInput[] = [];
  const log = (level: LogLevel, message: string, meta?: Record<string, unknown>) => {
    logs.push({ workflowRunId, stageId, level, message, metadata: meta ?? null });
  };
  return { logs, log };
}

export function buildStageContext(input: {
  deps: KernelDeps;
  workflowRunId: string;
  stageId: string;
  attempt: number;
  stageInput: unknown;
  config: unknown;
  workflowContext: Record<string, unknown>;
  /** Earlier outputs in the BlobStore that were not loaded (not an input or declared dependency). */
  unloadedOutputs?: readonly string[];
  resumeState?: SuspendedState;
  /** The signal, or a function that makes it on first read of `ctx.signal`. */
  signal: AbortSignal | (() => AbortSignal);
  log: (level: LogLevel, message: string, meta?: Record<string, unknown>) => void;
  onProgress: (update: ProgressUpdate) => void;
}): KernelStageContext {
  const { workflowContext, workflowRunId, stageId } = input;
  const signal = input.signal;
  return {
    input: input.stageInput,
    config: input.config,
    workflowRunId,
    stageId,
    attempt: input.attempt,
    workflowContext,
    resumeState: input.resumeState,
    get signal() {
      return typeof signal === "function" ? signal() : signal;
    },
    aiTopic: stageTopic(workflowRunId, stageId),
    aiCallLogger: input.deps.aiCallLogger,
    require(id: string) {
      if (!(id in workflowContext)) {
        if (input.unloadedOutputs?.includes(id)) {
          throw new MissingStageOutputError(
            `Stage "${stageId}" requires the output of "${id}", which is large and only loaded for declared dependencies: ` +
              `add it to the stage's dependencies`,
          );
        }
        const available = Object.keys(workflowContext);
        throw new MissingStageOutputError(
          `Stage "${stageId}" requires the output of "${id}", which has none. ` +
            `Available: ${available.length ? available.join(", ") : "(none)"}`,
        );
      }
      return workflowContext[id];
    },
    optional(id: string) {
      return workflowContext[id];
    },
    log: input.log,
    onProgress: input.onProgress,
    // Made on first use: most stages never touch artifacts.
    get storage() {
      const storage = createStageStorage(input.deps, workflowRunId, stageId);
      Object.defineProperty(this, "storage", { value: storage, enumerable: true });
      return storage;
    },
  };
}

export function buildCheckCompletionContext(input: {
  deps: KernelDeps;
  workflowRunId: string;
  stageId: string;
  config: unknown;
  log: (level: LogLevel, message: string, meta?: Record<string, unknown>) => void;
}): CheckCompletionContext<unknown> {
  return {
    workflowRunId: input.workflowRunId,
    stageId: input.stageId,
    config: input.config,
    log: input.log,
    storage: createStageStorage(input.deps, input.workflowRunId, input.stageId),
    aiTopic: stageTopic(input.workflowRunId, input.stageId),
    aiCallLogger: input.deps.aiCallLogger,
  };
}
