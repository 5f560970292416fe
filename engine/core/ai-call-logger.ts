/** One model call as recorded for cost tracking. */
export interface AICallRecord {
  id: string;
  createdAt: Date;
  /** Hierarchical topic, e.g. `workflow.<runId>.stage.<stageId>`. */
  topic: string;
  callType: string;
  modelKey: string;
  modelId: string;
  prompt: string;
  response: string;
  inputTokens: number;
  outputTokens: number;
  /** Part of `inputTokens` read from the provider's prompt cache. */
  cachedInputTokens?: number;
  /** Part of `inputTokens` written to the prompt cache (Anthropic prices these higher). */
  cacheWriteInputTokens?: number;
  /** Part of `outputTokens` spent on hidden reasoning. */
  reasoningTokens?: number;
  /** US dollars. */
  cost: number;
  /**
   * How `cost` was obtained: provider usage times the catalog price, a simulated price (offline
   * `local/...` models), or estimated tokens (the provider reported none).
   */
  costSource?: "catalog" | "simulated" | "estimated";
  /** The call went to the offline `local/...` provider: no network, no money spent. */
  offline?: boolean;
  batchId?: string;
  metadata?: Record<string, unknown> | null;
}

export type CreateAICallInput = Omit<AICallRecord, "id" | "createdAt">;

export interface AIModelStats {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cost: number;
}

export interface AICallStats {
  totalCalls: number;
  totalInputTokens: number;
  totalOutputTokens: number;
  totalTokens: number;
  totalCost: number;
  perModel: Record<string, AIModelStats>;
}

/** Records model calls and aggregates them by topic prefix. */
export interface AICallLogger {
  logCall(call: CreateAICallInput): Promise<void> | void;
  logBatchResults(batchId: string, results: CreateAICallInput[]): Promise<void>;
  getStats(topicPrefix: string): Promise<AICallStats>;
  /** Whether results of this provider batch were already recorded (so a resumed stage does not count them twice). */
  isRecorded(batchId: string): Promise<boolean>;
}

/** Topic under which a stage's model calls are recorded. */
export function stageTopic(workflowRunId: string, stageId: string): string {
  return `workflow.${workflowRunId}.stage.${stageId}`;
}

export function emptyAICallStats(): AICallStats {
  return { totalCalls: 0, totalInputTokens: 0, totalOutputTokens: 0, totalTokens: 0, totalCost: 0, perModel: {} };
}
