import { PersistenceConflictError } from "../../kernel/errors.js";
import type { BlobStore, Clock, Persistence } from "../../kernel/ports.js";
import type {
  CreateLogInput,
  CreateOutboxEventInput,
  CreateRunInput,
  CreateStageInput,
  IdempotencyAcquireResult,
  ListRunsFilter,
  ListRunsPage,
  OutboxEventKey,
  OutboxRecord,
  Status,
  UpdateRunInput,
  UpdateStageInput,
  WorkflowLogRecord,
  WorkflowRunRecord,
  WorkflowStageRecord,
} from "../../kernel/records.js";
import { DYNAMO_LIMITS } from "../definitions.js";
import { toDocumentClient, type DynamoClientLike } from "./document-client.js";
import { LargeItemGuard } from "./large-items.js";
import { RunGate } from "./run-gate.js";
import { UnitOfWork, type DynamoContext } from "./unit-of-work.js";
import type { Scope } from "./scope.js";
import * as runs from "./runs.js";
import * as stages from "./stages.js";
import * as logs from "./logs.js";
import * as outbox from "./outbox.js";
import * as idempotency from "./idempotency.js";
import * as locks from "./locks.js";
import { systemClock } from "../../kernel/system-clock.js";


export interface DynamoWorkflowPersistenceOptions {
  /** A DynamoDB client or document client (region, credentials, endpoint as you need). */
  client: DynamoClientLike;
  /** The engine table, created from `TABLE_DEFINITION` (CDK stack or `buildCreateTableInput`). */
  tableName: string;
  /** Time source for every timestamp the adapter writes. @default system clock */
  clock?: Clock;
  /**
   * Where fields go that would push an item past DynamoDB's 400 KB limit (huge run inputs,
   * suspended state, event payloads). Without it such writes fail with DynamoItemTooLargeError
   * before anything is written. @default none
   */
  blobStore?: BlobStore;
  /** Item size above which fields are offloaded (or refused). @default 350 KB */
  maxItemBytes?: number;
  /**
   * Let transactions of one run started by this instance take turns (in-process only; the write
   * conditions still guard across processes). Saves the re-reads of conflicting commits when a
   * parallel group's stages finish together in one node host. Set 0 to turn off.
   * @default 500 (the longest a transaction waits for its turn, in ms)
   */
  runGateMaxWaitMs?: number;
}

/**
 * The kernel's Persistence on one DynamoDB table. Each call outside `withTransaction` is its own
 * conditional write; `withTransaction` buffers writes into one unit of work committed with a
 * single TransactWriteItems (or one plain write when only one item changed).
 */
class DynamoWorkflowPersistence implements Persistence {
  constructor(
    private readonly ctx: DynamoContext,
    private readonly clock: Clock,
    private readonly uow?: UnitOfWork,
  ) {}

  private get inTransaction(): boolean {
    return this.uow !== undefined;
  }

  /** Runs `fn` in the surrounding transaction, or in a unit of work of its own committed at once. */
  private async scoped<T>(fn: (scope: Scope) => Promise<T> | T): Promise<T> {
    if (this.uow) return fn({ uow: this.uow, ctx: this.ctx, clock: this.clock });
    const uow = new UnitOfWork(this.ctx);
    const result = await fn({ uow, ctx: this.ctx, clock: this.clock });
    await uow.commit();
    return result;
  }

  async withTransaction<T>(fn: (tx: Persistence) => Promise<T>): Promise<T> {
    if (this.uow) return fn(this);
    const gate = this.ctx.runGate;
    let entry: Promise<() => void> | undefined;
    const uow = new UnitOfWork(this.ctx, gate ? async (pk) => void (await (entry ??= gate.enter(pk))) : undefined);
    try {
      const result = await fn(new DynamoWorkflowPersistence(this.ctx, this.clock, uow));
      await uow.commit();
      return result;
    } finally {
      // Also when `fn` failed while the entry was still pending: the turn is handed on once taken.
      if (entry) void entry.then((leave) => leave());
    }
  }

  createRun = (input: CreateRunInput): Promise<WorkflowRunRecord> => this.scoped((s) => runs.createRun(s, input));
  getRun = (id: string): Promise<WorkflowRunRecord | null> => this.scoped((s) => runs.getRun(s, id));
  updateRun = (id: string, patch: UpdateRunInput): Promise<WorkflowRunRecord> => this.scoped((s) => runs.updateRun(s, id, patch));
  getRunsByStatus = (status: Status, options?: { limit?: number; updatedBefore?: Date }): Promise<WorkflowRunRecord[]> =>
    this.scoped((s) => runs.getRunsByStatus(s, status, options));
  listRuns = (filter: ListRunsFilter): Promise<ListRunsPage> => this.scoped((s) => runs.listRuns(s, filter));

  createStage = (input: CreateStageInput): Promise<WorkflowStageRecord> => this.scoped((s) => stages.createStage(s, input));
  getStage = (runId: string, stageId: string): Promise<WorkflowStageRecord | null> =>
    this.scoped((s) => stages.getStage(s, runId, stageId));
  getStagesByRun = (runId: string): Promise<WorkflowStageRecord[]> => this.scoped((s) => stages.getStagesByRun(s, runId));
  updateStage = (runId: string, stageId: string, patch: UpdateStageInput): Promise<WorkflowStageRecord> =>
    this.scoped((s) => stages.updateStage(s, runId, stageId, patch));
  deleteStage = (runId: string, stageId: string): Promise<void> => this.scoped((s) => stages.deleteStage(s, runId, stageId));
  getSuspendedStagesDue = (now: Date, limit: number): Promise<WorkflowStageRecord[]> =>
    this.scoped((s) => stages.getSuspendedStagesDue(s, now, limit));
  getStagesWithExpiredLease = (now: Date, limit: number): Promise<WorkflowStageRecord[]> =>
    this.scoped((s) => stages.getStagesWithExpiredLease(s, now, limit));

  createLogs = (input: CreateLogInput[]): Promise<void> => this.scoped((s) => logs.createLogs(s, input));
  getLogsByRun = (runId: string, options?: { limit?: number }): Promise<WorkflowLogRecord[]> =>
    this.scoped((s) => logs.getLogsByRun(s, runId, options));

  appendOutboxEvents = (events: CreateOutboxEventInput[]): Promise<OutboxRecord[]> =>
    this.scoped((s) => outbox.appendOutboxEvents(s, events));
  getUnpublishedOutboxEvents = (limit: number): Promise<OutboxRecord[]> =>
    this.scoped((s) => outbox.getUnpublishedOutboxEvents(s, limit));
  getOutboxEventsByRun = (runId: string, options?: { afterSequence?: number; limit?: number }): Promise<OutboxRecord[]> =>
    this.scoped((s) => outbox.getOutboxEventsByRun(s, runId, options));
  getDLQOutboxEvents = (limit: number): Promise<OutboxRecord[]> => this.scoped((s) => outbox.getDLQOutboxEvents(s, limit));
  incrementOutboxRetryCount = (key: OutboxEventKey): Promise<number> =>
    this.scoped((s) => outbox.incrementOutboxRetryCount(s, key));
  moveOutboxEventToDLQ = (key: OutboxEventKey, at: Date): Promise<void> => this.scoped((s) => outbox.moveOutboxEventToDLQ(s, key, at));
  replayDLQOutboxEvents = (keys: OutboxEventKey[]): Promise<void> => this.scoped((s) => outbox.replayDLQOutboxEvents(s, keys));

  async markOutboxEventsPublished(keys: OutboxEventKey[], publishedAt: Date): Promise<void> {
    const byRun = new Map<string, number[]>();
    for (const key of keys) byRun.set(key.workflowRunId, [...(byRun.get(key.workflowRunId) ?? []), key.sequence]);
    if (this.inTransaction) {
      for (const [runId, sequences] of byRun) await this.scoped((s) => outbox.markPublished(s, runId, sequences, publishedAt));
      return;
    }
    // Outside a transaction each run is its own write: one conditional update of the run item when
    // the events are the ones right after its watermark up to its last (nothing read first), else
    // read and decide. Atomicity across runs buys nothing here (a repeated mark is harmless).
    const runs = [...byRun];
    for (let i = 0; i < runs.length; i += 16) {
      await Promise.all(
        runs.slice(i, i + 16).map(async ([runId, sequences]) => {
          try {
            let fast = false;
            await this.scoped((s) => void (fast = outbox.markPublishedFast(s, runId, sequences, publishedAt, true)));
            if (fast) return;
          } catch (error) {
            if (!(error instanceof PersistenceConflictError)) throw error;
          }
          for (let attempt = 0; ; attempt++) {
            try {
              await this.scoped((s) => outbox.markPublished(s, runId, sequences, publishedAt));
              return;
            } catch (error) {
              // Appends to a busy run (a parallel group) move lastEventSeq under a mark that would
              // take the run out of the outbox index: back off and decide again.
              if (!(error instanceof PersistenceConflictError) || attempt >= 20) throw error;
              await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 4 * 2 ** attempt)));
            }
          }
        }),
      );
    }
  }

  async acquireIdempotencyKey(key: string, commandType: string, options: { now: Date; staleAfterMs: number }): Promise<IdempotencyAcquireResult> {
    if (this.inTransaction) return this.scoped((s) => idempotency.acquireIdempotencyKey(s, key, commandType, options));
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.scoped((s) => idempotency.acquireIdempotencyKey(s, key, commandType, options));
      } catch (error) {
        // Someone else claimed or completed it between our read and write: read again and answer.
        if (!(error instanceof PersistenceConflictError) || attempt >= 3) throw error;
      }
    }
  }
  completeIdempotencyKey = (key: string, commandType: string, result: unknown): Promise<void> =>
    this.scoped((s) => idempotency.completeIdempotencyKey(s, key, commandType, result));
  releaseIdempotencyKey = (key: string, commandType: string): Promise<void> =>
    this.scoped((s) => idempotency.releaseIdempotencyKey(s, key, commandType));

  async tryAcquireLock(name: string, owner: string, options: { now: Date; ttlMs: number }): Promise<boolean> {
    try {
      return await this.scoped((s) => locks.tryAcquireLock(s, name, owner, options));
    } catch (error) {
      if (!this.inTransaction && error instanceof PersistenceConflictError) return false;
      throw error;
    }
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    try {
      await this.scoped((s) => locks.releaseLock(s, name, owner));
    } catch (error) {
      if (this.inTransaction || !(error instanceof PersistenceConflictError)) throw error;
    }
  }
}

/**
 * Creates the kernel's Persistence on a DynamoDB table (single-table design, see
 * docs/aws-table-design.md): conditional writes for claims and idempotency keys, optimistic
 * concurrency with `version`, stage leases fenced by `attempt`, gapless per-run event numbers,
 * and `withTransaction` committed as one TransactWriteItems. A failed condition throws
 * `PersistenceConflictError`, which the kernel retries.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
 * import { createDynamoWorkflowPersistence, createS3BlobStore } from "stageflow/aws";
 *
 * const persistence = createDynamoWorkflowPersistence({
 *   client: new DynamoDBClient({}),
 *   tableName: process.env.STAGEFLOW_TABLE_NAME!,
 *   blobStore: createS3BlobStore({ client: new S3Client({}), bucket: process.env.STAGEFLOW_BUCKET_NAME! }),
 * });
 * ```
 */
export function createDynamoWorkflowPersistence(options: DynamoWorkflowPersistenceOptions): Persistence {
  if (!options.tableName) throw new TypeError("createDynamoWorkflowPersistence: tableName is required");
  const ctx: DynamoContext = {
    client: toDocumentClient(options.client),
    tableName: options.tableName,
    largeItems: new LargeItemGuard(options.blobStore, options.maxItemBytes ?? DYNAMO_LIMITS.safeItemBytes),
    runGate: options.runGateMaxWaitMs === 0 ? undefined : new RunGate(options.runGateMaxWaitMs ?? 500),
  };
  return new DynamoWorkflowPersistence(ctx, options.clock ?? systemClock);
}
