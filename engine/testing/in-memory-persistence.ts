import { randomUUID } from "node:crypto";
import { PersistenceConflictError } from "../kernel/errors.js";
import type { Clock, Persistence } from "../kernel/ports.js";
import type {
  CreateLogInput,
  CreateOutboxEventInput,
  CreateRunInput,
  CreateStageInput,
  IdempotencyAcquireResult,
  IdempotencyRecord,
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
  WriteConditions,
} from "../kernel/records.js";
import { AsyncMutex } from "./async-mutex.js";
import { systemClock } from "../kernel/system-clock.js";


interface Lock {
  owner: string;
  expiresAt: number;
}

/** Every map the adapter keeps; indexes exist so no query scans all runs ever stored. */
class Store {
  runs = new Map<string, WorkflowRunRecord>();
  runsByStatus = new Map<Status, Set<string>>();
  runsByWorkflow = new Map<string, Set<string>>();
  stages = new Map<string, Map<string, WorkflowStageRecord>>();
  suspendedStages = new Map<string, WorkflowStageRecord>();
  runningStages = new Map<string, WorkflowStageRecord>();
  logs = new Map<string, WorkflowLogRecord[]>();
  outbox = new Map<string, OutboxRecord[]>();
  /** Runs with at least one event neither published nor dead-lettered. */
  runsWithPendingEvents = new Set<string>();
  deadLettered = new Map<string, OutboxRecord>();
  idempotency = new Map<string, IdempotencyRecord>();
  locks = new Map<string, Lock>();
}

function indexAdd<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

function conditionsHold(
  record: { version: number; status: Status },
  conditions: WriteConditions,
): boolean {
  if (conditions.expectedVersion !== undefined && record.version !== conditions.expectedVersion) return false;
  if (conditions.expectedStatus !== undefined) {
    const allowed = typeof conditions.expectedStatus === "string" ? [conditions.expectedStatus] : conditions.expectedStatus;
    if (!allowed.includes(record.status)) return false;
  }
  return true;
}

function describeConditions(conditions: WriteConditions & { expectedAttempt?: number }): string {
  return JSON.stringify({
    expectedVersion: conditions.expectedVersion,
    expectedStatus: conditions.expectedStatus,
    expectedAttempt: conditions.expectedAttempt,
  });
}

/** Nesting deeper than this (or a cycle) goes to structuredClone, which handles any depth and shared references. */
const MAX_FAST_COPY_DEPTH = 64;
class NotPlainData extends Error {}
const NOT_PLAIN = new NotPlainData();

/** Copies arrays, plain objects and Dates recursively; throws NOT_PLAIN on anything else. */
function copyPlain(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_FAST_COPY_DEPTH) throw NOT_PLAIN;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = copyPlain(value[i], depth + 1);
    return copy;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype) {
    // A spread copies own enumerable properties (an own "__proto__" included) into an object of
    // the same shape, with properties in-object; nested objects are then replaced by copies.
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const key in copy) {
      const item = copy[key];
      if (item !== null && typeof item === "object") copy[key] = copyPlain(item, depth + 1);
    }
    return copy;
  }
  if (proto === null) {
    const copy: Record<string, unknown> = Object.create(null);
    for (const key in value) {
      const item = copyPlain((value as Record<string, unknown>)[key], depth + 1);
      if (key === "__proto__") Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
      else copy[key] = item;
    }
    return copy;
  }
  if (value instanceof Date) return new Date(value.getTime());
  throw NOT_PLAIN;
}

/**
 * Stored values never share objects with callers (a real database would not either). JSON-like
 * values (the usual case) are copied by a plain recursive walk, several times faster than
 * structuredClone; anything else (Maps, class instances, cycles) still goes through structuredClone.
 */
function copyJson<T>(value: T): T {
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  try {
    return copyPlain(value, 0) as T;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return structuredClone(value);
  }
}

/** Copies defined fields of a patch onto a shallow copy of the record, dropping the write conditions. */
function applyPatch<T extends object>(next: T, patch: object, skip: ReadonlySet<string>): T {
  const target = next as Record<string, unknown>;
  for (const key in patch) {
    const value = (patch as Record<string, unknown>)[key];
    if (value !== undefined && !skip.has(key)) target[key] = copyJson(value);
  }
  return next;
}

// Records are copied field by field: an object literal of known shape is much cheaper for V8
// than a spread of a 20-field record, and these copies happen on every read.

function shallowRun(run: WorkflowRunRecord): WorkflowRunRecord {
  return {
    id: run.id,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    version: run.version,
    workflowId: run.workflowId,
    workflowName: run.workflowName,
    workflowType: run.workflowType,
    status: run.status,
    startedAt: run.startedAt,
    completedAt: run.completedAt,
    duration: run.duration,
    input: run.input,
    output: run.output,
    config: run.config,
    totalCost: run.totalCost,
    totalTokens: run.totalTokens,
    priority: run.priority,
    metadata: run.metadata,
    currentGroup: run.currentGroup,
    lastEventSeq: run.lastEventSeq,
    errorMessage: run.errorMessage,
  };
}

function copyRun(run: WorkflowRunRecord): WorkflowRunRecord {
  const copy = shallowRun(run);
  copy.input = copyJson(run.input);
  copy.output = copyJson(run.output);
  copy.config = copyJson(run.config);
  copy.metadata = copyJson(run.metadata);
  return copy;
}

function shallowStage(stage: WorkflowStageRecord): WorkflowStageRecord {
  return {
    id: stage.id,
    createdAt: stage.createdAt,
    updatedAt: stage.updatedAt,
    version: stage.version,
    workflowRunId: stage.workflowRunId,
    stageId: stage.stageId,
    stageName: stage.stageName,
    stageNumber: stage.stageNumber,
    executionGroup: stage.executionGroup,
    status: stage.status,
    attempt: stage.attempt,
    leaseOwner: stage.leaseOwner,
    leaseExpiresAt: stage.leaseExpiresAt,
    retryAt: stage.retryAt,
    startedAt: stage.startedAt,
    completedAt: stage.completedAt,
    duration: stage.duration,
    outputData: stage.outputData,
    config: stage.config,
    suspendedState: stage.suspendedState,
    resumeData: stage.resumeData,
    nextPollAt: stage.nextPollAt,
    pollInterval: stage.pollInterval,
    maxWaitUntil: stage.maxWaitUntil,
    metrics: stage.metrics,
    errorMessage: stage.errorMessage,
  };
}

function copyStage(stage: WorkflowStageRecord): WorkflowStageRecord {
  const copy = shallowStage(stage);
  copy.outputData = copyJson(stage.outputData);
  copy.config = copyJson(stage.config);
  copy.suspendedState = copyJson(stage.suspendedState);
  copy.resumeData = copyJson(stage.resumeData);
  copy.metrics = copyJson(stage.metrics);
  return copy;
}

const RUN_PATCH_SKIP = new Set(["expectedVersion", "expectedStatus", "addCost", "addTokens"]);
const STAGE_PATCH_SKIP = new Set(["expectedVersion", "expectedStatus", "expectedAttempt"]);

/** One transaction's view of the store: every write records how to undo it. */
class TransactionView implements Persistence {
  readonly undo: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async withTransaction<T>(fn: (tx: Persistence) => Promise<T>): Promise<T> {
    return fn(this);
  }

  // Runs -------------------------------------------------------------------------------------

  private putRun(next: WorkflowRunRecord | undefined, id: string): void {
    const { store } = this;
    const previous = store.runs.get(id);
    if (previous) {
      store.runsByStatus.get(previous.status)?.delete(id);
      store.runsByWorkflow.get(previous.workflowId)?.delete(id);
    }
    if (next) {
      store.runs.set(id, next);
      indexAdd(store.runsByStatus, next.status, id);
      indexAdd(store.runsByWorkflow, next.workflowId, id);
    } else {
      store.runs.delete(id);
    }
  }

  private writeRun(id: string, next: WorkflowRunRecord | undefined): void {
    const previous = this.store.runs.get(id);
    this.putRun(next, id);
    this.undo.push(() => this.putRun(previous, id));
  }

  async createRun(input: CreateRunInput): Promise<WorkflowRunRecord> {
    if (this.store.runs.has(input.id)) throw new PersistenceConflictError(`Run ${input.id} already exists`);
    const now = this.clock.now();
    const run: WorkflowRunRecord = {
      id: input.id,
      createdAt: now,
      updatedAt: now,
      version: 1,
      workflowId: input.workflowId,
      workflowName: input.workflowName,
      workflowType: input.workflowType,
      status: input.status,
      startedAt: input.startedAt ?? null,
      completedAt: null,
      duration: null,
      input: copyJson(input.input),
      output: null,
      config: copyJson(input.config),
      totalCost: 0,
      totalTokens: 0,
      priority: input.priority,
      metadata: copyJson(input.metadata ?? null),
      currentGroup: input.currentGroup ?? 0,
      lastEventSeq: 0,
      errorMessage: null,
    };
    this.writeRun(run.id, run);
    return copyRun(run);
  }

  async getRun(id: string): Promise<WorkflowRunRecord | null> {
    const run = this.store.runs.get(id);
    return run ? copyRun(run) : null;
  }

  async updateRun(id: string, patch: UpdateRunInput): Promise<WorkflowRunRecord> {
    const run = this.store.runs.get(id);
    if (!run) throw new PersistenceConflictError(`Run ${id} does not exist`);
    if (!conditionsHold(run, patch)) {
      throw new PersistenceConflictError(`Run ${id} changed (${describeConditions(patch)}; now version ${run.version}, ${run.status})`);
    }
    const next = applyPatch(shallowRun(run), patch, RUN_PATCH_SKIP);
    next.totalCost = run.totalCost + (patch.addCost ?? 0);
    next.totalTokens = run.totalTokens + (patch.addTokens ?? 0);
    next.version = run.version + 1;
    next.updatedAt = this.clock.now();
    this.writeRun(id, next);
    return copyRun(next);
  }

  async getRunsByStatus(status: Status, options: { limit?: number; updatedBefore?: Date } = {}): Promise<WorkflowRunRecord[]> {
    const ids = this.store.runsByStatus.get(status) ?? new Set<string>();
    let runs: WorkflowRunRecord[] = [];
    for (const id of ids) {
      const run = this.store.runs.get(id)!;
      if (options.updatedBefore && run.updatedAt.getTime() >= options.updatedBefore.getTime()) continue;
      runs.push(run);
    }
    runs =
      status === "PENDING"
        ? runs.sort((a, b) => b.priority - a.priority || a.createdAt.getTime() - b.createdAt.getTime())
        : runs.sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
    return runs.slice(0, options.limit ?? runs.length).map(copyRun);
  }

  async listRuns(filter: ListRunsFilter): Promise<ListRunsPage> {
    const { store } = this;
    let ids: Iterable<string>;
    if (filter.workflowId) ids = store.runsByWorkflow.get(filter.workflowId) ?? [];
    else if (filter.status) ids = store.runsByStatus.get(filter.status) ?? [];
    else ids = store.runs.keys();
    const matching = [...ids]
      .map((id) => store.runs.get(id)!)
      .filter((r) => !filter.status || r.status === filter.status)
      // Newest first; the id breaks ties so the cursor is a total order.
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? -1 : 1));
    let start = 0;
    if (filter.cursor) {
      const [time, id] = JSON.parse(Buffer.from(filter.cursor, "base64url").toString()) as [number, string];
      start = matching.findIndex((r) => r.createdAt.getTime() < time || (r.createdAt.getTime() === time && r.id > id));
      if (start < 0) start = matching.length;
    }
    const limit = Math.max(1, Math.min(filter.limit ?? 50, 1000));
    const runs = matching.slice(start, start + limit);
    const last = runs.at(-1);
    const nextCursor =
      last && start + limit < matching.length
        ? Buffer.from(JSON.stringify([last.createdAt.getTime(), last.id])).toString("base64url")
        : undefined;
    return { runs: runs.map(copyRun), nextCursor };
  }

  // Stages -----------------------------------------------------------------------------------

  private putStage(runId: string, stageId: string, next: WorkflowStageRecord | undefined): void {
    const { store } = this;
    let byStage = store.stages.get(runId);
    const key = `${runId}:${stageId}`;
    store.suspendedStages.delete(key);
    store.runningStages.delete(key);
    if (!next) {
      byStage?.delete(stageId);
      return;
    }
    if (!byStage) store.stages.set(runId, (byStage = new Map()));
    byStage.set(stageId, next);
    if (next.status === "SUSPENDED") store.suspendedStages.set(key, next);
    if (next.status === "RUNNING") store.runningStages.set(key, next);
  }

  private writeStage(runId: string, stageId: string, next: WorkflowStageRecord | undefined): void {
    const previous = this.store.stages.get(runId)?.get(stageId);
    this.putStage(runId, stageId, next);
    this.undo.push(() => this.putStage(runId, stageId, previous));
  }

  async createStage(input: CreateStageInput): Promise<WorkflowStageRecord> {
    if (this.store.stages.get(input.workflowRunId)?.has(input.stageId)) {
      throw new PersistenceConflictError(`Stage ${input.stageId} of run ${input.workflowRunId} already exists`);
    }
    const now = this.clock.now();
    const stage: WorkflowStageRecord = {
      id: `${input.workflowRunId}:${input.stageId}`,
      createdAt: now,
      updatedAt: now,
      version: 1,
      workflowRunId: input.workflowRunId,
      stageId: input.stageId,
      stageName: input.stageName,
      stageNumber: input.stageNumber,
      executionGroup: input.executionGroup,
      status: input.status,
      attempt: input.attempt ?? 0,
      leaseOwner: null,
      leaseExpiresAt: null,
      retryAt: null,
      startedAt: null,
      completedAt: null,
      duration: null,
      outputData: null,
      config: copyJson(input.config ?? null),
      suspendedState: null,
      resumeData: null,
      nextPollAt: null,
      pollInterval: null,
      maxWaitUntil: null,
      metrics: null,
      errorMessage: null,
    };
    this.writeStage(input.workflowRunId, input.stageId, stage);
    return copyStage(stage);
  }

  async getStage(workflowRunId: string, stageId: string): Promise<WorkflowStageRecord | null> {
    const stage = this.store.stages.get(workflowRunId)?.get(stageId);
    return stage ? copyStage(stage) : null;
  }

  async getStagesByRun(workflowRunId: string): Promise<WorkflowStageRecord[]> {
    const byStage = this.store.stages.get(workflowRunId);
    if (!byStage) return [];
    const stages: WorkflowStageRecord[] = [];
    let sorted = true;
    for (const stage of byStage.values()) {
      if (stages.length && stages[stages.length - 1]!.stageNumber > stage.stageNumber) sorted = false;
      stages.push(copyStage(stage));
    }
    // Stages are usually created in plan order, so the sort is rarely needed.
    return sorted ? stages : stages.sort((a, b) => a.stageNumber - b.stageNumber);
  }

  async updateStage(workflowRunId: string, stageId: string, patch: UpdateStageInput): Promise<WorkflowStageRecord> {
    const stage = this.store.stages.get(workflowRunId)?.get(stageId);
    if (!stage) throw new PersistenceConflictError(`Stage ${stageId} of run ${workflowRunId} does not exist`);
    if (!conditionsHold(stage, patch) || (patch.expectedAttempt !== undefined && stage.attempt !== patch.expectedAttempt)) {
      throw new PersistenceConflictError(
        `Stage ${stageId} of run ${workflowRunId} changed (${describeConditions(patch)}; now attempt ${stage.attempt}, ${stage.status})`,
      );
    }
    const next = applyPatch(shallowStage(stage), patch, STAGE_PATCH_SKIP);
    next.version = stage.version + 1;
    next.updatedAt = this.clock.now();
    this.writeStage(workflowRunId, stageId, next);
    return copyStage(next);
  }

  async deleteStage(workflowRunId: string, stageId: string): Promise<void> {
    if (this.store.stages.get(workflowRunId)?.has(stageId)) this.writeStage(workflowRunId, stageId, undefined);
  }

  async getSuspendedStagesDue(now: Date, limit: number): Promise<WorkflowStageRecord[]> {
    return [...this.store.suspendedStages.values()]
      .filter((s) => s.nextPollAt !== null && s.nextPollAt.getTime() <= now.getTime())
      .sort((a, b) => a.nextPollAt!.getTime() - b.nextPollAt!.getTime())
      .slice(0, limit)
      .map(copyStage);
  }

  async getStagesWithExpiredLease(now: Date, limit: number): Promise<WorkflowStageRecord[]> {
    return [...this.store.runningStages.values()]
      .filter((s) => s.leaseExpiresAt !== null && s.leaseExpiresAt.getTime() <= now.getTime())
      .slice(0, limit)
      .map(copyStage);
  }

  // Logs -------------------------------------------------------------------------------------

  async createLogs(logs: CreateLogInput[]): Promise<void> {
    const now = this.clock.now();
    for (const log of logs) {
      let list = this.store.logs.get(log.workflowRunId);
      if (!list) this.store.logs.set(log.workflowRunId, (list = []));
      const target = list;
      target.push({
        id: randomUUID(),
        createdAt: now,
        workflowRunId: log.workflowRunId,
        stageId: log.stageId ?? null,
        level: log.level,
        message: log.message,
        metadata: log.metadata ?? null,
      });
      this.undo.push(() => void target.pop());
    }
  }

  async getLogsByRun(workflowRunId: string, options: { limit?: number } = {}): Promise<WorkflowLogRecord[]> {
    const list = this.store.logs.get(workflowRunId) ?? [];
    return list.slice(0, options.limit ?? list.length).map((l) => ({ ...l }));
  }

  // Outbox -----------------------------------------------------------------------------------

  private eventsOf(workflowRunId: string): OutboxRecord[] {
    let list = this.store.outbox.get(workflowRunId);
    if (!list) this.store.outbox.set(workflowRunId, (list = []));
    return list;
  }

  private refreshPending(workflowRunId: string): void {
    const pending = this.eventsOf(workflowRunId).some((e) => !e.publishedAt && !e.dlqAt);
    if (pending) this.store.runsWithPendingEvents.add(workflowRunId);
    else this.store.runsWithPendingEvents.delete(workflowRunId);
  }

  private replaceEvent(key: OutboxEventKey, change: (event: OutboxRecord) => OutboxRecord, refresh = true): void {
    const list = this.eventsOf(key.workflowRunId);
    const index = key.sequence - 1;
    const previous = list[index];
    if (!previous) throw new PersistenceConflictError(`Outbox event ${key.workflowRunId}:${key.sequence} does not exist`);
    const apply = (event: OutboxRecord) => {
      list[index] = event;
      if (event.dlqAt) this.store.deadLettered.set(event.id, event);
      else this.store.deadLettered.delete(event.id);
    };
    apply(change(previous));
    if (refresh) this.refreshPending(key.workflowRunId);
    this.undo.push(() => {
      apply(previous);
      this.refreshPending(key.workflowRunId);
    });
  }

  async appendOutboxEvents(events: CreateOutboxEventInput[]): Promise<OutboxRecord[]> {
    // Every run must exist before anything is written, so a failed append writes nothing.
    for (const input of events) {
      if (!this.store.runs.has(input.workflowRunId)) throw new PersistenceConflictError(`Run ${input.workflowRunId} does not exist`);
    }
    const written: OutboxRecord[] = [];
    const lastSequence = new Map<string, number>();
    for (const input of events) {
      const runId = input.workflowRunId;
      const sequence = (lastSequence.get(runId) ?? this.store.runs.get(runId)!.lastEventSeq) + 1;
      lastSequence.set(runId, sequence);
      const record: OutboxRecord = {
        id: `${runId}:${sequence}`,
        workflowRunId: runId,
        sequence,
        eventType: input.eventType,
        payload: copyJson(input.payload),
        causationId: input.causationId,
        occurredAt: input.occurredAt,
        publishedAt: null,
        retryCount: 0,
        dlqAt: null,
      };
      const list = this.eventsOf(runId);
      list.push(record);
      this.store.runsWithPendingEvents.add(runId);
      this.undo.push(() => {
        list.pop();
        this.refreshPending(runId);
      });
      written.push({ ...record });
    }
    // The sequence lives on the run but is not a business change: the version stays, so a
    // transaction can append events and still update the run with the version it read.
    for (const [runId, sequence] of lastSequence) {
      const withSequence = shallowRun(this.store.runs.get(runId)!);
      withSequence.lastEventSeq = sequence;
      this.writeRun(runId, withSequence);
    }
    return written;
  }

  async getUnpublishedOutboxEvents(limit: number): Promise<OutboxRecord[]> {
    const result: OutboxRecord[] = [];
    for (const runId of this.store.runsWithPendingEvents) {
      for (const event of this.eventsOf(runId)) {
        if (event.publishedAt || event.dlqAt) continue;
        result.push({ ...event });
        if (result.length >= limit) return result;
      }
    }
    return result;
  }

  async getOutboxEventsByRun(workflowRunId: string, options: { afterSequence?: number; limit?: number } = {}): Promise<OutboxRecord[]> {
    const list = this.store.outbox.get(workflowRunId) ?? [];
    const after = options.afterSequence ?? 0;
    return list.slice(after, after + (options.limit ?? list.length)).map((e) => ({ ...e }));
  }

  async markOutboxEventsPublished(keys: OutboxEventKey[], publishedAt: Date): Promise<void> {
    const runs = new Set<string>();
    for (const key of keys) {
      this.replaceEvent(key, (e) => ({ ...e, publishedAt }), false);
      runs.add(key.workflowRunId);
    }
    // Once per run rather than once per event: the check walks the run's events.
    for (const runId of runs) this.refreshPending(runId);
  }

  async incrementOutboxRetryCount(key: OutboxEventKey): Promise<number> {
    let count = 0;
    this.replaceEvent(key, (e) => ({ ...e, retryCount: (count = e.retryCount + 1) }));
    return count;
  }

  async moveOutboxEventToDLQ(key: OutboxEventKey, at: Date): Promise<void> {
    this.replaceEvent(key, (e) => ({ ...e, dlqAt: at }));
  }

  async getDLQOutboxEvents(limit: number): Promise<OutboxRecord[]> {
    return [...this.store.deadLettered.values()].slice(0, limit).map((e) => ({ ...e }));
  }

  async replayDLQOutboxEvents(keys: OutboxEventKey[]): Promise<void> {
    for (const key of keys) this.replaceEvent(key, (e) => ({ ...e, dlqAt: null, retryCount: 0, publishedAt: null }));
  }

  // Idempotency and locks --------------------------------------------------------------------

  private writeIdempotency(id: string, next: IdempotencyRecord | undefined): void {
    const previous = this.store.idempotency.get(id);
    const apply = (value: IdempotencyRecord | undefined) =>
      value ? this.store.idempotency.set(id, value) : this.store.idempotency.delete(id);
    apply(next);
    this.undo.push(() => apply(previous));
  }

  async acquireIdempotencyKey(
    key: string,
    commandType: string,
    options: { now: Date; staleAfterMs: number },
  ): Promise<IdempotencyAcquireResult> {
    const id = `${commandType}\u0000${key}`;
    const existing = this.store.idempotency.get(id);
    if (existing?.status === "COMPLETED") return { status: "completed", result: existing.result };
    if (existing && options.now.getTime() - existing.createdAt.getTime() < options.staleAfterMs) {
      return { status: "in_progress", since: existing.createdAt };
    }
    this.writeIdempotency(id, { key, commandType, status: "IN_PROGRESS", result: null, createdAt: options.now });
    return { status: "acquired" };
  }

  async completeIdempotencyKey(key: string, commandType: string, result: unknown): Promise<void> {
    const id = `${commandType}\u0000${key}`;
    const existing = this.store.idempotency.get(id);
    this.writeIdempotency(id, {
      key,
      commandType,
      status: "COMPLETED",
      result,
      createdAt: existing?.createdAt ?? this.clock.now(),
    });
  }

  async releaseIdempotencyKey(key: string, commandType: string): Promise<void> {
    this.writeIdempotency(`${commandType}\u0000${key}`, undefined);
  }

  async tryAcquireLock(name: string, owner: string, options: { now: Date; ttlMs: number }): Promise<boolean> {
    const lock = this.store.locks.get(name);
    if (lock && lock.owner !== owner && lock.expiresAt > options.now.getTime()) return false;
    const previous = lock;
    this.store.locks.set(name, { owner, expiresAt: options.now.getTime() + options.ttlMs });
    this.undo.push(() => (previous ? this.store.locks.set(name, previous) : this.store.locks.delete(name)));
    return true;
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    const lock = this.store.locks.get(name);
    if (lock?.owner !== owner) return;
    this.store.locks.delete(name);
    this.undo.push(() => this.store.locks.set(name, lock));
  }
}

type Operation = Exclude<keyof Persistence, "withTransaction">;

/**
 * Persistence in memory, with real transactions (isolated, rolled back on a throw), the injected
 * clock for every timestamp, and indexes so query cost follows the matching rows, not all rows.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * const persistence = new InMemoryWorkflowPersistence({ clock });
 * ```
 */
export class InMemoryWorkflowPersistence implements Persistence {
  private readonly store = new Store();
  private readonly mutex = new AsyncMutex();
  private readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async withTransaction<T>(fn: (tx: Persistence) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      const view = new TransactionView(this.store, this.clock);
      try {
        return await fn(view);
      } catch (error) {
        for (const undo of view.undo.reverse()) undo();
        throw error;
      }
    });
  }

  /** Runs one operation as its own transaction. */
  private single<K extends Operation>(operation: K, ...args: Parameters<Persistence[K]>): ReturnType<Persistence[K]> {
    return this.withTransaction((tx) =>
      (tx[operation] as (...a: Parameters<Persistence[K]>) => Promise<unknown>)(...args),
    ) as ReturnType<Persistence[K]>;
  }

  createRun = (...a: Parameters<Persistence["createRun"]>) => this.single("createRun", ...a);
  getRun = (...a: Parameters<Persistence["getRun"]>) => this.single("getRun", ...a);
  updateRun = (...a: Parameters<Persistence["updateRun"]>) => this.single("updateRun", ...a);
  getRunsByStatus = (...a: Parameters<Persistence["getRunsByStatus"]>) => this.single("getRunsByStatus", ...a);
  listRuns = (...a: Parameters<Persistence["listRuns"]>) => this.single("listRuns", ...a);
  createStage = (...a: Parameters<Persistence["createStage"]>) => this.single("createStage", ...a);
  getStage = (...a: Parameters<Persistence["getStage"]>) => this.single("getStage", ...a);
  getStagesByRun = (...a: Parameters<Persistence["getStagesByRun"]>) => this.single("getStagesByRun", ...a);
  updateStage = (...a: Parameters<Persistence["updateStage"]>) => this.single("updateStage", ...a);
  deleteStage = (...a: Parameters<Persistence["deleteStage"]>) => this.single("deleteStage", ...a);
  getSuspendedStagesDue = (...a: Parameters<Persistence["getSuspendedStagesDue"]>) => this.single("getSuspendedStagesDue", ...a);
  getStagesWithExpiredLease = (...a: Parameters<Persistence["getStagesWithExpiredLease"]>) =>
    this.single("getStagesWithExpiredLease", ...a);
  createLogs = (...a: Parameters<Persistence["createLogs"]>) => this.single("createLogs", ...a);
  getLogsByRun = (...a: Parameters<Persistence["getLogsByRun"]>) => this.single("getLogsByRun", ...a);
  appendOutboxEvents = (...a: Parameters<Persistence["appendOutboxEvents"]>) => this.single("appendOutboxEvents", ...a);
  getUnpublishedOutboxEvents = (...a: Parameters<Persistence["getUnpublishedOutboxEvents"]>) =>
    this.single("getUnpublishedOutboxEvents", ...a);
  getOutboxEventsByRun = (...a: Parameters<Persistence["getOutboxEventsByRun"]>) => this.single("getOutboxEventsByRun", ...a);
  markOutboxEventsPublished = (...a: Parameters<Persistence["markOutboxEventsPublished"]>) =>
    this.single("markOutboxEventsPublished", ...a);
  incrementOutboxRetryCount = (...a: Parameters<Persistence["incrementOutboxRetryCount"]>) =>
    this.single("incrementOutboxRetryCount", ...a);
  moveOutboxEventToDLQ = (...a: Parameters<Persistence["moveOutboxEventToDLQ"]>) => this.single("moveOutboxEventToDLQ", ...a);
  getDLQOutboxEvents = (...a: Parameters<Persistence["getDLQOutboxEvents"]>) => this.single("getDLQOutboxEvents", ...a);
  replayDLQOutboxEvents = (...a: Parameters<Persistence["replayDLQOutboxEvents"]>) => this.single("replayDLQOutboxEvents", ...a);
  acquireIdempotencyKey = (...a: Parameters<Persistence["acquireIdempotencyKey"]>) => this.single("acquireIdempotencyKey", ...a);
  completeIdempotencyKey = (...a: Parameters<Persistence["completeIdempotencyKey"]>) => this.single("completeIdempotencyKey", ...a);
  releaseIdempotencyKey = (...a: Parameters<Persistence["releaseIdempotencyKey"]>) => this.single("releaseIdempotencyKey", ...a);
  tryAcquireLock = (...a: Parameters<Persistence["tryAcquireLock"]>) => this.single("tryAcquireLock", ...a);
  releaseLock = (...a: Parameters<Persistence["releaseLock"]>) => this.single("releaseLock", ...a);

  /** Number of runs stored (for tests and benchmarks). */
  get runCount(): number {
    return this.store.runs.size;
  }
}
