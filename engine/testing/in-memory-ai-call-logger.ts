/**
 * An `AICallLogger` kept in memory, for tests and local runs.
 *
 * Topics are hierarchical and matched at dot boundaries: `getStats("workflow.r1.stage.sum")` covers
 * that topic and `workflow.r1.stage.sum.<anything>`, but not `workflow.r1.stage.summary`, so one
 * stage's cost never includes a sibling whose id starts the same way (nor run `r1` include `r10`).
 * Totals are kept per prefix as calls arrive, so `getStats` is a lookup, not a scan.
 */

import {
  emptyAICallStats,
  type AICallLogger,
  type AICallRecord,
  type AICallStats,
  type CreateAICallInput,
} from "../core/ai-call-logger.js";

export interface InMemoryAICallLoggerOptions {
  /** Stamps `createdAt`; pass the test's fake clock. @default the system clock */
  clock?: { now(): Date };
  /** @default sequential ids `aicall-1`, `aicall-2`, ... */
  generateId?: () => string;
}

/**
 * @example
 * ```ts
 * const logger = new InMemoryAICallLogger({ clock: fakeClock });
 * const ai = createAIHelper(stageTopic("run-1", "summarize"), logger);
 * await ai.generateText("local/fast", "Summarize: ...");
 * (await logger.getStats("workflow.run-1")).totalCost; // > 0
 * ```
 */
export class InMemoryAICallLogger implements AICallLogger {
  private readonly clock: { now(): Date };
  private readonly generateId: () => string;
  private readonly callsByTopic = new Map<string, AICallRecord[]>();
  /** Running totals for every topic and every dot-boundary prefix of it. */
  private readonly statsByPrefix = new Map<string, AICallStats>();
  private readonly recordedBatches = new Set<string>();
  private nextId = 1;

  constructor(options: InMemoryAICallLoggerOptions = {}) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.generateId = options.generateId ?? (() => `aicall-${this.nextId++}`);
  }

  logCall(call: CreateAICallInput): void {
    const record: AICallRecord = { ...call, id: this.generateId(), createdAt: this.clock.now() };
    let calls = this.callsByTopic.get(record.topic);
    if (!calls) {
      calls = [];
      this.callsByTopic.set(record.topic, calls);
    }
    calls.push(record);
    for (const prefix of dotPrefixes(record.topic)) {
      let stats = this.statsByPrefix.get(prefix);
      if (!stats) {
        stats = emptyAICallStats();
        this.statsByPrefix.set(prefix, stats);
      }
      addCall(stats, record);
    }
  }

  async logBatchResults(batchId: string, results: CreateAICallInput[]): Promise<void> {
    // Recording a batch twice would double its cost on the stage and the run.
    if (this.recordedBatches.has(batchId)) return;
    this.recordedBatches.add(batchId);
    for (const result of results) this.logCall({ ...result, batchId });
  }

  async isRecorded(batchId: string): Promise<boolean> {
    return this.recordedBatches.has(batchId);
  }

  async getStats(topicPrefix: string): Promise<AICallStats> {
    const stats = this.statsByPrefix.get(topicPrefix.replace(/\.$/, ""));
    return stats ? cloneStats(stats) : emptyAICallStats();
  }

  /** Calls under a topic prefix (all calls without one), in the order they were logged; for tests. */
  getCalls(topicPrefix?: string): AICallRecord[] {
    const prefix = topicPrefix?.replace(/\.$/, "");
    return [...this.callsByTopic.entries()]
      .filter(([topic]) => prefix === undefined || topic === prefix || topic.startsWith(`${prefix}.`))
      .flatMap(([, calls]) => calls)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** Forgets everything (between tests). */
  clear(): void {
    this.callsByTopic.clear();
    this.statsByPrefix.clear();
    this.recordedBatches.clear();
  }
}

/** "a.b.c" → ["a", "a.b", "a.b.c"]. */
function dotPrefixes(topic: string): string[] {
  const parts = topic.split(".");
  return parts.map((_, i) => parts.slice(0, i + 1).join("."));
}

function addCall(stats: AICallStats, call: AICallRecord): void {
  stats.totalCalls += 1;
  stats.totalInputTokens += call.inputTokens;
  stats.totalOutputTokens += call.outputTokens;
  stats.totalTokens += call.inputTokens + call.outputTokens;
  stats.totalCost += call.cost;
  const model = (stats.perModel[call.modelKey] ??= { calls: 0, inputTokens: 0, outputTokens: 0, cost: 0 });
  model.calls += 1;
  model.inputTokens += call.inputTokens;
  model.outputTokens += call.outputTokens;
  model.cost += call.cost;
}

function mergeStats(into: AICallStats, from: AICallStats): void {
  into.totalCalls += from.totalCalls;
  into.totalInputTokens += from.totalInputTokens;
  into.totalOutputTokens += from.totalOutputTokens;
  into.totalTokens += from.totalTokens;
  into.totalCost += from.totalCost;
  for (const [key, m] of Object.entries(from.perModel)) {
    const target = (into.perModel[key] ??= { calls: 0, inputTokens: 0, outputTokens: 0, cost: 0 });
    target.calls += m.calls;
    target.inputTokens += m.inputTokens;
    target.outputTokens += m.outputTokens;
    target.cost += m.cost;
  }
}

function cloneStats(stats: AICallStats): AICallStats {
  const copy = emptyAICallStats();
  mergeStats(copy, stats);
  return copy;
}
