import type { Clock, Persistence } from "../kernel/ports.js";
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
} from "../kernel/records.js";
import { AsyncMutex } from "./async-mutex.js";
import { Store } from "./in-memory-store.js";
import { systemClock } from "../kernel/system-clock.js";

/** A store operation: synchronous, so nothing can interleave with it once it runs. */
type Operation<R> = (this: Store, a: never, b: never, c: never) => R;

/**
 * Runs a synchronous store operation and hands its result (or its error) back as a promise,
 * without the closures and frames an async wrapper would allocate.
 */
function settle<R>(store: Store, operation: Operation<R>, a?: unknown, b?: unknown, c?: unknown): Promise<R> {
  try {
    return Promise.resolve((operation as (this: Store, a: unknown, b: unknown, c: unknown) => R).call(store, a, b, c));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * One transaction's handle. Its operations run directly on the store, whose undo log is open for
 * this transaction; once the transaction has ended they go through the adapter like any call
 * from outside, so a handle kept too long cannot write unprotected.
 */
class TransactionView implements Persistence {
  open = true;

  constructor(private readonly owner: InMemoryWorkflowPersistence) {}

  private call<R>(operation: Operation<R>, a?: unknown, b?: unknown, c?: unknown): Promise<R> {
    return this.open ? settle(this.owner.store, operation, a, b, c) : this.owner.call(operation, a, b, c);
  }

  withTransaction<T>(fn: (tx: Persistence) => Promise<T>): Promise<T> {
    return this.open ? fn(this) : this.owner.withTransaction(fn);
  }

  createRun(input: CreateRunInput): Promise<WorkflowRunRecord> {
    return this.call(Store.prototype.createRun, input);
  }
  getRun(id: string): Promise<WorkflowRunRecord | null> {
    return this.call(Store.prototype.getRun, id);
  }
  updateRun(id: string, patch: UpdateRunInput): Promise<WorkflowRunRecord> {
    return this.call(Store.prototype.updateRun, id, patch);
  }
  getRunsByStatus(status: Status, options?: { limit?: number; updatedBefore?: Date }): Promise<WorkflowRunRecord[]> {
    return this.call(Store.prototype.getRunsByStatus, status, options);
  }
  listRuns(filter: ListRunsFilter): Promise<ListRunsPage> {
    return this.call(Store.prototype.listRuns, filter);
  }
  createStage(input: CreateStageInput): Promise<WorkflowStageRecord> {
    return this.call(Store.prototype.createStage, input);
  }
  getStage(workflowRunId: string, stageId: string): Promise<WorkflowStageRecord | null> {
    return this.call(Store.prototype.getStage, workflowRunId, stageId);
  }
  getStagesByRun(workflowRunId: string): Promise<WorkflowStageRecord[]> {
    return this.call(Store.prototype.getStagesByRun, workflowRunId);
  }
  updateStage(workflowRunId: string, stageId: string, patch: UpdateStageInput): Promise<WorkflowStageRecord> {
    return this.call(Store.prototype.updateStage, workflowRunId, stageId, patch);
  }
  deleteStage(workflowRunId: string, stageId: string): Promise<void> {
    return this.call(Store.prototype.deleteStage, workflowRunId, stageId);
  }
  getSuspendedStagesDue(now: Date, limit: number): Promise<WorkflowStageRecord[]> {
    return this.call(Store.prototype.getSuspendedStagesDue, now, limit);
  }
  getStagesWithExpiredLease(now: Date, limit: number): Promise<WorkflowStageRecord[]> {
    return this.call(Store.prototype.getStagesWithExpiredLease, now, limit);
  }
  createLogs(logs: CreateLogInput[]): Promise<void> {
    return this.call(Store.prototype.createLogs, logs);
  }
  getLogsByRun(workflowRunId: string, options?: { limit?: number }): Promise<WorkflowLogRecord[]> {
    return this.call(Store.prototype.getLogsByRun, workflowRunId, options);
  }
  appendOutboxEvents(events: CreateOutboxEventInput[]): Promise<OutboxRecord[]> {
    return this.call(Store.prototype.appendOutboxEvents, events);
  }
  getUnpublishedOutboxEvents(limit: number): Promise<OutboxRecord[]> {
    return this.call(Store.prototype.getUnpublishedOutboxEvents, limit);
  }
  getOutboxEventsByRun(workflowRunId: string, options?: { afterSequence?: number; limit?: number }): Promise<OutboxRecord[]> {
    return this.call(Store.prototype.getOutboxEventsByRun, workflowRunId, options);
  }
  markOutboxEventsPublished(keys: OutboxEventKey[], publishedAt: Date): Promise<void> {
    return this.call(Store.prototype.markOutboxEventsPublished, keys, publishedAt);
  }
  incrementOutboxRetryCount(key: OutboxEventKey): Promise<number> {
    return this.call(Store.prototype.incrementOutboxRetryCount, key);
  }
  moveOutboxEventToDLQ(key: OutboxEventKey, at: Date): Promise<void> {
    return this.call(Store.prototype.moveOutboxEventToDLQ, key, at);
  }
  getDLQOutboxEvents(limit: number): Promise<OutboxRecord[]> {
    return this.call(Store.prototype.getDLQOutboxEvents, limit);
  }
  replayDLQOutboxEvents(keys: OutboxEventKey[]): Promise<void> {
    return this.call(Store.prototype.replayDLQOutboxEvents, keys);
  }
  acquireIdempotencyKey(key: string, commandType: string, options: { now: Date; staleAfterMs: number }): Promise<IdempotencyAcquireResult> {
    return this.call(Store.prototype.acquireIdempotencyKey, key, commandType, options);
  }
  completeIdempotencyKey(key: string, commandType: string, result: unknown): Promise<void> {
    return this.call(Store.prototype.completeIdempotencyKey, key, commandType, result);
  }
  releaseIdempotencyKey(key: string, commandType: string): Promise<void> {
    return this.call(Store.prototype.releaseIdempotencyKey, key, commandType);
  }
  tryAcquireLock(name: string, owner: string, options: { now: Date; ttlMs: number }): Promise<boolean> {
    return this.call(Store.prototype.tryAcquireLock, name, owner, options);
  }
  releaseLock(name: string, owner: string): Promise<void> {
    return this.call(Store.prototype.releaseLock, name, owner);
  }
}

/**
 * Persistence in memory, with real transactions (isolated, rolled back on a throw), the injected
 * clock for every timestamp, and indexes so query cost follows the matching rows, not all rows.
 *
 * Transactions hold a mutex for their whole callback. A call made outside a transaction is one
 * synchronous step: when no transaction is open it runs at once (nothing can interleave with
 * it); otherwise it waits for its turn like a transaction would.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * const persistence = new InMemoryWorkflowPersistence({ clock });
 * ```
 */
export class InMemoryWorkflowPersistence implements Persistence {
  /** @internal */
  readonly store: Store;
  private readonly mutex = new AsyncMutex();

  constructor(options: { clock?: Clock } = {}) {
    this.store = new Store(options.clock ?? systemClock);
  }

  /** @internal Runs one operation on its own: at once if no transaction is open, else in turn. */
  call<R>(operation: Operation<R>, a?: unknown, b?: unknown, c?: unknown): Promise<R> {
    return this.mutex.locked ? this.callInTurn(operation, a, b, c) : settle(this.store, operation, a, b, c);
  }

  private async callInTurn<R>(operation: Operation<R>, a: unknown, b: unknown, c: unknown): Promise<R> {
    await this.mutex.acquire();
    try {
      return (operation as (this: Store, a: unknown, b: unknown, c: unknown) => R).call(this.store, a, b, c);
    } finally {
      this.mutex.release();
    }
  }

  withTransaction = <T>(fn: (tx: Persistence) => Promise<T>): Promise<T> =>
    this.mutex.tryLock() ? this.transact(fn) : this.mutex.acquire().then(() => this.transact(fn));

  /** Runs `fn` as a transaction; the caller holds the mutex, which this releases. */
  private async transact<T>(fn: (tx: Persistence) => Promise<T>): Promise<T> {
    const store = this.store;
    const view = new TransactionView(this);
    store.begin();
    try {
      const result = await fn(view);
      view.open = false;
      store.commit();
      return result;
    } catch (error) {
      view.open = false;
      store.rollback();
      throw error;
    } finally {
      this.mutex.release();
    }
  }

  createRun = (input: CreateRunInput): Promise<WorkflowRunRecord> => this.call(Store.prototype.createRun, input);
  getRun = (id: string): Promise<WorkflowRunRecord | null> => this.call(Store.prototype.getRun, id);
  updateRun = (id: string, patch: UpdateRunInput): Promise<WorkflowRunRecord> =>
    this.call(Store.prototype.updateRun, id, patch);
  getRunsByStatus = (status: Status, options?: { limit?: number; updatedBefore?: Date }): Promise<WorkflowRunRecord[]> =>
    this.call(Store.prototype.getRunsByStatus, status, options);
  listRuns = (filter: ListRunsFilter): Promise<ListRunsPage> => this.call(Store.prototype.listRuns, filter);
  createStage = (input: CreateStageInput): Promise<WorkflowStageRecord> =>
    this.call(Store.prototype.createStage, input);
  getStage = (workflowRunId: string, stageId: string): Promise<WorkflowStageRecord | null> =>
    this.call(Store.prototype.getStage, workflowRunId, stageId);
  getStagesByRun = (workflowRunId: string): Promise<WorkflowStageRecord[]> =>
    this.call(Store.prototype.getStagesByRun, workflowRunId);
  updateStage = (workflowRunId: string, stageId: string, patch: UpdateStageInput): Promise<WorkflowStageRecord> =>
    this.call(Store.prototype.updateStage, workflowRunId, stageId, patch);
  deleteStage = (workflowRunId: string, stageId: string): Promise<void> =>
    this.call(Store.prototype.deleteStage, workflowRunId, stageId);
  getSuspendedStagesDue = (now: Date, limit: number): Promise<WorkflowStageRecord[]> =>
    this.call(Store.prototype.getSuspendedStagesDue, now, limit);
  getStagesWithExpiredLease = (now: Date, limit: number): Promise<WorkflowStageRecord[]> =>
    this.call(Store.prototype.getStagesWithExpiredLease, now, limit);
  createLogs = (logs: CreateLogInput[]): Promise<void> => this.call(Store.prototype.createLogs, logs);
  getLogsByRun = (workflowRunId: string, options?: { limit?: number }): Promise<WorkflowLogRecord[]> =>
    this.call(Store.prototype.getLogsByRun, workflowRunId, options);
  appendOutboxEvents = (events: CreateOutboxEventInput[]): Promise<OutboxRecord[]> =>
    this.call(Store.prototype.appendOutboxEvents, events);
  getUnpublishedOutboxEvents = (limit: number): Promise<OutboxRecord[]> =>
    this.call(Store.prototype.getUnpublishedOutboxEvents, limit);
  getOutboxEventsByRun = (workflowRunId: string, options?: { afterSequence?: number; limit?: number }): Promise<OutboxRecord[]> =>
    this.call(Store.prototype.getOutboxEventsByRun, workflowRunId, options);
  markOutboxEventsPublished = (keys: OutboxEventKey[], publishedAt: Date): Promise<void> =>
    this.call(Store.prototype.markOutboxEventsPublished, keys, publishedAt);
  incrementOutboxRetryCount = (key: OutboxEventKey): Promise<number> =>
    this.call(Store.prototype.incrementOutboxRetryCount, key);
  moveOutboxEventToDLQ = (key: OutboxEventKey, at: Date): Promise<void> =>
    this.call(Store.prototype.moveOutboxEventToDLQ, key, at);
  getDLQOutboxEvents = (limit: number): Promise<OutboxRecord[]> => this.call(Store.prototype.getDLQOutboxEvents, limit);
  replayDLQOutboxEvents = (keys: OutboxEventKey[]): Promise<void> => this.call(Store.prototype.replayDLQOutboxEvents, keys);
  acquireIdempotencyKey = (key: string, commandType: string, options: { now: Date; staleAfterMs: number }): Promise<IdempotencyAcquireResult> =>
    this.call(Store.prototype.acquireIdempotencyKey, key, commandType, options);
  completeIdempotencyKey = (key: string, commandType: string, result: unknown): Promise<void> =>
    this.call(Store.prototype.completeIdempotencyKey, key, commandType, result);
  releaseIdempotencyKey = (key: string, commandType: string): Promise<void> =>
    this.call(Store.prototype.releaseIdempotencyKey, key, commandType);
  tryAcquireLock = (name: string, owner: string, options: { now: Date; ttlMs: number }): Promise<boolean> =>
    this.call(Store.prototype.tryAcquireLock, name, owner, options);
  releaseLock = (name: string, owner: string): Promise<void> => this.call(Store.prototype.releaseLock, name, owner);

  /** Number of runs stored (for tests and benchmarks). */
  get runCount(): number {
    return this.store.runs.size;
  }
}
