/**
 * The records the in-memory persistence keeps, in a compact form:
 * - runs and stages are fixed-shape classes (every property in-object), a stage's rarely set
 *   fields in a side object that exists only while one is set;
 * - their timestamps are milliseconds after the store's first timestamp (small integers, which V8
 *   keeps inline, where a Date costs about 110 bytes); Dates are made when a record is read, so a
 *   caller never shares one with the store;
 * - outbox events are columns per run (no object per event); their run, sequence and id follow
 *   from where they are stored, their times are epoch ms in an unboxed double array;
 * - JSON values are packed copies (see json-copy.ts), empty ones shared.
 *
 * Records are changed in place. Outside a transaction nothing needs undoing: every operation
 * checks its conditions and copies its inputs before it writes, and writes synchronously. Inside
 * one, each write first appends to an undo log of plain entries (a record's first change in a
 * transaction saves one snapshot of it), which a rollback replays backwards.
 */
import { randomUUID } from "node:crypto";
import { PersistenceConflictError } from "../kernel/errors.js";
import type { Clock } from "../kernel/ports.js";
import type {
  CreateLogInput,
  CreateOutboxEventInput,
  CreateRunInput,
  CreateStageInput,
  IdempotencyAcquireResult,
  ListRunsFilter,
  ListRunsPage,
  LogLevel,
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
import { TERMINAL_STATUSES } from "../core/types.js";
import { copyIn, copyOut, intern } from "./json-copy.js";

export class StoredRun {
  /** The transaction that last saved a snapshot of this record (0: none). */
  txMark = 0;
  createdAt: number;
  updatedAt: number;
  version = 1;
  startedAt: number | null = null;
  completedAt: number | null = null;
  duration: number | null = null;
  output: unknown = null;
  totalCost = 0;
  totalTokens = 0;
  errorMessage: string | null = null;

  constructor(
    readonly slot: RunSlot,
    readonly id: string,
    now: number,
    readonly workflowId: string,
    readonly workflowName: string,
    readonly workflowType: string,
    public status: Status,
    readonly input: unknown,
    readonly config: Record<string, unknown>,
    readonly priority: number,
    readonly metadata: Record<string, unknown> | null,
    public currentGroup: number,
  ) {
    this.createdAt = now;
    this.updatedAt = now;
  }

  restore(s: RunSnapshot): void {
    copyRunState(s, this);
  }
}

/** Copies the fields of a run an update may change (a snapshot's capture and restore). */
function copyRunState(from: RunSnapshot | StoredRun, to: RunSnapshot | StoredRun): void {
  to.updatedAt = from.updatedAt;
  to.version = from.version;
  to.status = from.status;
  to.startedAt = from.startedAt;
  to.completedAt = from.completedAt;
  to.duration = from.duration;
  to.output = from.output;
  to.totalCost = from.totalCost;
  to.totalTokens = from.totalTokens;
  to.currentGroup = from.currentGroup;
  to.errorMessage = from.errorMessage;
}

/** The fields of a run an update may change, saved by a transaction before its first change. */
class RunSnapshot {
  updatedAt = 0;
  version = 0;
  status: Status = "PENDING";
  startedAt: number | null = null;
  completedAt: number | null = null;
  duration: number | null = null;
  output: unknown = null;
  totalCost = 0;
  totalTokens = 0;
  currentGroup = 0;
  errorMessage: string | null = null;

  capture(r: StoredRun): this {
    copyRunState(r, this);
    return this;
  }

  clear(): void {
    this.output = null;
  }
}

/**
 * The fields of a stage that are null for most of its life (a lease while it runs, the state of
 * a suspension or a retry, an error): kept apart so a finished stage does not carry them.
 */
class StageExtra {
  leaseOwner: string | null = null;
  leaseExpiresAt: number | null = null;
  retryAt: number | null = null;
  suspendedState: unknown = null;
  resumeData: unknown = null;
  nextPollAt: number | null = null;
  pollInterval: number | null = null;
  maxWaitUntil: number | null = null;
  errorMessage: string | null = null;

  get empty(): boolean {
    return (
      this.leaseOwner === null &&
      this.leaseExpiresAt === null &&
      this.retryAt === null &&
      this.suspendedState === null &&
      this.resumeData === null &&
      this.nextPollAt === null &&
      this.pollInterval === null &&
      this.maxWaitUntil === null &&
      this.errorMessage === null
    );
  }
}

export class StoredStage {
  txMark = 0;
  createdAt: number;
  updatedAt: number;
  version = 1;
  startedAt: number | null = null;
  completedAt: number | null = null;
  duration: number | null = null;
  outputData: unknown = null;
  metrics: Record<string, number> | null = null;
  /** The rarely set fields, null while all of them are null. */
  private extra: StageExtra | null = null;

  private withExtra(): StageExtra {
    return (this.extra ??= new StageExtra());
  }

  /** Drops the rarely set fields once they are all null again. */
  compact(): void {
    if (this.extra !== null && this.extra.empty) this.extra = null;
  }

  get leaseOwner(): string | null {
    return this.extra === null ? null : this.extra.leaseOwner;
  }
  set leaseOwner(value: string | null) {
    if (value !== null || this.extra !== null) this.withExtra().leaseOwner = value;
  }
  get leaseExpiresAt(): number | null {
    return this.extra === null ? null : this.extra.leaseExpiresAt;
  }
  set leaseExpiresAt(value: number | null) {
    if (value !== null || this.extra !== null) this.withExtra().leaseExpiresAt = value;
  }
  get retryAt(): number | null {
    return this.extra === null ? null : this.extra.retryAt;
  }
  set retryAt(value: number | null) {
    if (value !== null || this.extra !== null) this.withExtra().retryAt = value;
  }
  get suspendedState(): unknown {
    return this.extra === null ? null : this.extra.suspendedState;
  }
  set suspendedState(value: unknown) {
    if (value !== null || this.extra !== null) this.withExtra().suspendedState = value;
  }
  get resumeData(): unknown {
    return this.extra === null ? null : this.extra.resumeData;
  }
  set resumeData(value: unknown) {
    if (value !== null || this.extra !== null) this.withExtra().resumeData = value;
  }
  get nextPollAt(): number | null {
    return this.extra === null ? null : this.extra.nextPollAt;
  }
  set nextPollAt(value: number | null) {
    if (value !== null || this.extra !== null) this.withExtra().nextPollAt = value;
  }
  get pollInterval(): number | null {
    return this.extra === null ? null : this.extra.pollInterval;
  }
  set pollInterval(value: number | null) {
    if (value !== null || this.extra !== null) this.withExtra().pollInterval = value;
  }
  get maxWaitUntil(): number | null {
    return this.extra === null ? null : this.extra.maxWaitUntil;
  }
  set maxWaitUntil(value: number | null) {
    if (value !== null || this.extra !== null) this.withExtra().maxWaitUntil = value;
  }
  get errorMessage(): string | null {
    return this.extra === null ? null : this.extra.errorMessage;
  }
  set errorMessage(value: string | null) {
    if (value !== null || this.extra !== null) this.withExtra().errorMessage = value;
  }

  constructor(
    now: number,
    readonly workflowRunId: string,
    readonly stageId: string,
    readonly stageName: string,
    readonly stageNumber: number,
    readonly executionGroup: number,
    public status: Status,
    public attempt: number,
    readonly config: unknown,
  ) {
    this.createdAt = now;
    this.updatedAt = now;
  }

  restore(s: StageSnapshot): void {
    copyStageState(s, this);
    this.compact();
  }
}

/** Copies the fields of a stage an update may change (a snapshot's capture and restore). */
function copyStageState(from: StageSnapshot | StoredStage, to: StageSnapshot | StoredStage): void {
  to.updatedAt = from.updatedAt;
  to.version = from.version;
  to.status = from.status;
  to.attempt = from.attempt;
  to.leaseOwner = from.leaseOwner;
  to.leaseExpiresAt = from.leaseExpiresAt;
  to.retryAt = from.retryAt;
  to.startedAt = from.startedAt;
  to.completedAt = from.completedAt;
  to.duration = from.duration;
  to.outputData = from.outputData;
  to.suspendedState = from.suspendedState;
  to.resumeData = from.resumeData;
  to.nextPollAt = from.nextPollAt;
  to.pollInterval = from.pollInterval;
  to.maxWaitUntil = from.maxWaitUntil;
  to.metrics = from.metrics;
  to.errorMessage = from.errorMessage;
}

/** The fields of a stage an update may change, saved by a transaction before its first change. */
class StageSnapshot {
  updatedAt = 0;
  version = 0;
  status: Status = "PENDING";
  attempt = 0;
  leaseOwner: string | null = null;
  leaseExpiresAt: number | null = null;
  retryAt: number | null = null;
  startedAt: number | null = null;
  completedAt: number | null = null;
  duration: number | null = null;
  outputData: unknown = null;
  suspendedState: unknown = null;
  resumeData: unknown = null;
  nextPollAt: number | null = null;
  pollInterval: number | null = null;
  maxWaitUntil: number | null = null;
  metrics: Record<string, number> | null = null;
  errorMessage: string | null = null;

  capture(s: StoredStage): this {
    copyStageState(s, this);
    return this;
  }

  /** Lets go of stored values while the snapshot waits in the pool. */
  clear(): void {
    this.outputData = this.suspendedState = this.resumeData = this.metrics = null;
  }
}

/** Delivery state of an event that has a retry count or a dead-letter mark (rare, so kept apart). */
class EventDelivery {
  constructor(
    public retryCount: number,
    /** Epoch ms, or null. */
    public dlqAt: number | null,
  ) {}
}

/** An event's delivery fields, saved by a transaction that changes them. */
class EventState {
  constructor(
    readonly publishedAt: number,
    readonly retryCount: number,
    readonly dlqAt: number | null,
  ) {}
}

class StoredLog {
  constructor(
    readonly id: string,
    readonly createdAt: number,
    readonly stageId: string | null,
    readonly level: LogLevel,
    readonly message: string,
    readonly metadata: Record<string, unknown> | null,
  ) {}
}

class StoredIdempotency {
  constructor(
    readonly completed: boolean,
    readonly result: unknown,
    readonly createdAt: number,
  ) {}
}

class Lock {
  constructor(
    readonly owner: string,
    readonly expiresAt: number,
  ) {}
}

/** Everything stored under one run id (stages and logs may exist before their run does). */
export class RunSlot {
  run: StoredRun | null = null;
  /** By stageNumber, creation order among equals. */
  stages: StoredStage[] = [];
  /** Built once a run has many stages, so a lookup stays O(1). */
  stageMap: Map<string, StoredStage> | null = null;
  // Outbox events, one column per field: event i has sequence i + 1 (numbering is gapless, so
  // the last sequence is the count), its id is `<run>:<sequence>`. Columns cost 8 bytes per
  // field and event, where an object per event would add a header and a pointer to it.
  eventTypes: string[] = [];
  payloads: Record<string, unknown>[] = [];
  causationIds: string[] = [];
  /** occurredAt of event i at 2i, publishedAt at 2i + 1 (NaN: not published), epoch ms: unboxed doubles. */
  times: number[] = [];
  /** Retry counts and dead-letter marks, for the few events that have one. */
  delivery: Map<number, EventDelivery> | null = null;
  /** Events neither published nor dead-lettered. */
  pending = 0;
  /** Every event before this index is published or dead-lettered. */
  scanFrom = 0;
  /** The last causation id stored, reused by the next event that has the same one. */
  lastCausationId = "";
  logs: StoredLog[] | null = null;

  constructor(readonly id: string) {}

  get eventCount(): number {
    return this.eventTypes.length;
  }

  isPending(index: number): boolean {
    const publishedAt = this.times[2 * index + 1]!;
    if (publishedAt === publishedAt) return false;
    const delivery = this.delivery;
    return delivery === null || (delivery.get(index)?.dlqAt ?? null) === null;
  }

  /** Drops the spare capacity of every list (once a run is finished its lists rarely grow). */
  trim(): void {
    if (this.stages.length) this.stages = this.stages.slice();
    if (this.eventTypes.length) {
      this.eventTypes = this.eventTypes.slice();
      this.payloads = this.payloads.slice();
      this.causationIds = this.causationIds.slice();
      this.times = this.times.slice();
    }
  }

  findStage(stageId: string): StoredStage | undefined {
    if (this.stageMap) return this.stageMap.get(stageId);
    const stages = this.stages;
    for (let i = 0; i < stages.length; i++) if (stages[i]!.stageId === stageId) return stages[i];
    return undefined;
  }
}

const STAGE_MAP_FROM = 16;
const SNAPSHOT_POOL = 64;

// Undo log entries: four slots each (kind, a, b, c).
const UNDO_RUN_CREATED = 1; // a: run
const UNDO_RUN_CHANGED = 2; // a: run, b: snapshot
const UNDO_STAGE_CREATED = 3; // a: stage, b: slot
const UNDO_STAGE_DELETED = 4; // a: stage, b: slot, c: index
const UNDO_STAGE_CHANGED = 5; // a: stage, b: snapshot
const UNDO_EVENTS_APPENDED = 6; // a: slot, b: length before
const UNDO_EVENT_CHANGED = 7; // a: slot, b: index, c: snapshot
const UNDO_LOGS_APPENDED = 8; // a: slot, b: length before
const UNDO_IDEMPOTENCY = 9; // a: map of the command type, b: key, c: previous record
const UNDO_LOCK = 10; // a: name, b: previous lock

function conditionsHold(version: number, status: Status, conditions: WriteConditions): boolean {
  if (conditions.expectedVersion !== undefined && version !== conditions.expectedVersion) return false;
  const expected = conditions.expectedStatus;
  if (expected !== undefined) {
    if (typeof expected === "string") return expected === status;
    if (!expected.includes(status)) return false;
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

function indexAdd<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

/** Every map the adapter keeps; indexes exist so no query scans all runs ever stored. */
export class Store {
  runs = new Map<string, StoredRun>();
  slots = new Map<string, RunSlot>();
  runsByStatus = new Map<Status, Set<StoredRun>>();
  runsByWorkflow = new Map<string, Set<StoredRun>>();
  suspendedStages = new Set<StoredStage>();
  runningStages = new Set<StoredStage>();
  /** Runs with at least one event neither published nor dead-lettered, in the order they got one. */
  runsWithPendingEvents = new Set<RunSlot>();
  /** Dead-lettered events by id, in the order they were dead-lettered. */
  deadLettered = new Map<string, RunSlot>();
  idempotency = new Map<string, Map<string, StoredIdempotency>>();
  locks = new Map<string, Lock>();

  /** The open transaction's undo log (entries of four slots), or null outside a transaction. */
  log: unknown[] | null = null;
  private readonly logBuffer: unknown[] = [];
  private logLength = 0;
  /** Snapshots of finished transactions, reused by the next ones. */
  private readonly runSnapshots: RunSnapshot[] = [];
  private readonly stageSnapshots: StageSnapshot[] = [];
  private txSeq = 0;
  private txId = 0;
  /** Epoch milliseconds of the first time stored; times are kept relative to it. */
  private base = 0;
  private hasBase = false;

  constructor(private readonly clock: Clock) {}

  // Time ----------------------------------------------------------------------------------------

  private time(date: Date): number {
    const ms = date.getTime();
    if (!this.hasBase && ms === ms) {
      this.base = ms;
      this.hasBase = true;
    }
    return ms - this.base;
  }

  private timeOrNull(date: Date | null): number | null {
    return date === null ? null : this.time(date);
  }

  private now(): number {
    return this.time(this.clock.now());
  }

  private date(ms: number): Date {
    return new Date(ms + this.base);
  }

  private dateOrNull(ms: number | null): Date | null {
    return ms === null ? null : new Date(ms + this.base);
  }

  // Transactions --------------------------------------------------------------------------------

  begin(): void {
    this.txId = ++this.txSeq;
    this.log = this.logBuffer;
  }

  commit(): void {
    this.endTransaction();
  }

  rollback(): void {
    const log = this.logBuffer;
    for (let i = this.logLength - 4; i >= 0; i -= 4) this.undo(log[i] as number, log[i + 1], log[i + 2], log[i + 3]);
    this.endTransaction();
  }

  /** Empties the undo log (keeping its capacity) and puts its snapshots back in the pools. */
  private endTransaction(): void {
    const log = this.logBuffer;
    for (let i = 0; i < this.logLength; i += 4) {
      const kind = log[i];
      if (kind === UNDO_RUN_CHANGED && this.runSnapshots.length < SNAPSHOT_POOL) {
        (log[i + 2] as RunSnapshot).clear();
        this.runSnapshots.push(log[i + 2] as RunSnapshot);
      } else if (kind === UNDO_STAGE_CHANGED && this.stageSnapshots.length < SNAPSHOT_POOL) {
        (log[i + 2] as StageSnapshot).clear();
        this.stageSnapshots.push(log[i + 2] as StageSnapshot);
      }
      log[i + 1] = log[i + 2] = log[i + 3] = undefined;
    }
    this.logLength = 0;
    this.log = null;
    this.txId = 0;
  }

  private record(kind: number, a: unknown, b: unknown, c: unknown): void {
    const log = this.logBuffer;
    const at = this.logLength;
    log[at] = kind;
    log[at + 1] = a;
    log[at + 2] = b;
    log[at + 3] = c;
    this.logLength = at + 4;
  }

  private undo(kind: number, a: unknown, b: unknown, c: unknown): void {
    switch (kind) {
      case UNDO_RUN_CREATED: {
        const run = a as StoredRun;
        this.unindexRun(run);
        this.runs.delete(run.id);
        run.slot.run = null;
        break;
      }
      case UNDO_RUN_CHANGED: {
        const run = a as StoredRun;
        this.unindexRun(run);
        run.restore(b as RunSnapshot);
        run.txMark = 0;
        this.indexRun(run);
        break;
      }
      case UNDO_STAGE_CREATED:
        this.removeStage(b as RunSlot, a as StoredStage);
        break;
      case UNDO_STAGE_DELETED:
        this.insertStage(b as RunSlot, a as StoredStage, c as number);
        break;
      case UNDO_STAGE_CHANGED: {
        const stage = a as StoredStage;
        this.unindexStage(stage);
        stage.restore(b as StageSnapshot);
        stage.txMark = 0;
        this.indexStage(stage);
        break;
      }
      case UNDO_EVENTS_APPENDED:
        this.truncateEvents(a as RunSlot, b as number);
        break;
      case UNDO_EVENT_CHANGED: {
        const before = c as EventState;
        this.setEventState(a as RunSlot, b as number, before.publishedAt, before.retryCount, before.dlqAt);
        break;
      }
      case UNDO_LOGS_APPENDED:
        (a as RunSlot).logs!.length = b as number;
        break;
      case UNDO_IDEMPOTENCY: {
        const map = a as Map<string, StoredIdempotency>;
        if (c) map.set(b as string, c as StoredIdempotency);
        else map.delete(b as string);
        break;
      }
      case UNDO_LOCK:
        if (b) this.locks.set(a as string, b as Lock);
        else this.locks.delete(a as string);
        break;
    }
  }

  // Runs ----------------------------------------------------------------------------------------

  private slotFor(runId: string): RunSlot {
    let slot = this.slots.get(runId);
    if (!slot) {
      // Ids from crypto.randomUUID() are trees of about twenty concatenated strings (over 500
      // bytes); interning flattens the very string object every record of the run refers to.
      slot = new RunSlot(intern(runId));
      this.slots.set(runId, slot);
    }
    return slot;
  }

  private indexRun(run: StoredRun): void {
    indexAdd(this.runsByStatus, run.status, run);
    indexAdd(this.runsByWorkflow, run.workflowId, run);
  }

  private unindexRun(run: StoredRun): void {
    this.runsByStatus.get(run.status)?.delete(run);
    this.runsByWorkflow.get(run.workflowId)?.delete(run);
  }

  /** Before the first change of a run in a transaction: remember how to undo it. */
  private touchRun(run: StoredRun): void {
    if (this.log !== null && run.txMark !== this.txId) {
      run.txMark = this.txId;
      this.record(UNDO_RUN_CHANGED, run, (this.runSnapshots.pop() ?? new RunSnapshot()).capture(run), undefined);
    }
  }

  runOut(run: StoredRun): WorkflowRunRecord {
    return {
      id: run.id,
      createdAt: this.date(run.createdAt),
      updatedAt: this.date(run.updatedAt),
      version: run.version,
      workflowId: run.workflowId,
      workflowName: run.workflowName,
      workflowType: run.workflowType,
      status: run.status,
      startedAt: this.dateOrNull(run.startedAt),
      completedAt: this.dateOrNull(run.completedAt),
      duration: run.duration,
      input: copyOut(run.input),
      output: copyOut(run.output),
      config: copyOut(run.config),
      totalCost: run.totalCost,
      totalTokens: run.totalTokens,
      priority: run.priority,
      metadata: copyOut(run.metadata),
      currentGroup: run.currentGroup,
      lastEventSeq: run.slot.eventCount,
      errorMessage: run.errorMessage,
    };
  }

  createRun(input: CreateRunInput): WorkflowRunRecord {
    if (this.runs.has(input.id)) throw new PersistenceConflictError(`Run ${input.id} already exists`);
    const runInput = copyIn(input.input);
    const config = copyIn(input.config);
    const metadata = copyIn(input.metadata ?? null);
    const startedAt = input.startedAt ? this.time(input.startedAt) : null;
    const slot = this.slotFor(input.id);
    const run = new StoredRun(
      slot,
      input.id,
      this.now(),
      input.workflowId,
      input.workflowName,
      input.workflowType,
      input.status,
      runInput,
      config,
      input.priority,
      metadata,
      input.currentGroup ?? 0,
    );
    run.startedAt = startedAt;
    slot.run = run;
    this.runs.set(run.id, run);
    this.indexRun(run);
    if (this.log !== null) {
      run.txMark = this.txId;
      this.record(UNDO_RUN_CREATED, run, undefined, undefined);
    }
    return this.runOut(run);
  }

  getRun(id: string): WorkflowRunRecord | null {
    const run = this.runs.get(id);
    return run ? this.runOut(run) : null;
  }

  updateRun(id: string, patch: UpdateRunInput): WorkflowRunRecord {
    const run = this.runs.get(id);
    if (!run) throw new PersistenceConflictError(`Run ${id} does not exist`);
    if (!conditionsHold(run.version, run.status, patch)) {
      throw new PersistenceConflictError(`Run ${id} changed (${describeConditions(patch)}; now version ${run.version}, ${run.status})`);
    }
    // Everything that can throw happens before the first write.
    const output = patch.output !== undefined ? copyIn(patch.output) : undefined;
    const now = this.now();
    this.touchRun(run);
    if (patch.status !== undefined && patch.status !== run.status) {
      this.runsByStatus.get(run.status)?.delete(run);
      run.status = patch.status;
      indexAdd(this.runsByStatus, run.status, run);
      // A finished run's lists keep no spare capacity.
      if (TERMINAL_STATUSES.has(run.status)) run.slot.trim();
    }
    if (patch.startedAt !== undefined) run.startedAt = this.timeOrNull(patch.startedAt);
    if (patch.completedAt !== undefined) run.completedAt = this.timeOrNull(patch.completedAt);
    if (patch.duration !== undefined) run.duration = patch.duration;
    if (output !== undefined) run.output = output;
    if (patch.currentGroup !== undefined) run.currentGroup = patch.currentGroup;
    if (patch.errorMessage !== undefined) run.errorMessage = patch.errorMessage;
    if (patch.addCost) run.totalCost += patch.addCost;
    if (patch.addTokens) run.totalTokens += patch.addTokens;
    run.version++;
    run.updatedAt = now;
    return this.runOut(run);
  }

  getRunsByStatus(status: Status, options: { limit?: number; updatedBefore?: Date } = {}): WorkflowRunRecord[] {
    const set = this.runsByStatus.get(status);
    if (!set || set.size === 0) return [];
    const before = options.updatedBefore ? options.updatedBefore.getTime() - this.base : undefined;
    const runs: StoredRun[] = [];
    for (const run of set) {
      if (before !== undefined && run.updatedAt >= before) continue;
      runs.push(run);
    }
    if (status === "PENDING") runs.sort((a, b) => b.priority - a.priority || a.createdAt - b.createdAt);
    else runs.sort((a, b) => a.updatedAt - b.updatedAt);
    const count = Math.min(options.limit ?? runs.length, runs.length);
    const result: WorkflowRunRecord[] = new Array(Math.max(0, count));
    for (let i = 0; i < count; i++) result[i] = this.runOut(runs[i]!);
    return result;
  }

  listRuns(filter: ListRunsFilter): ListRunsPage {
    let source: Iterable<StoredRun>;
    if (filter.workflowId) source = this.runsByWorkflow.get(filter.workflowId) ?? [];
    else if (filter.status) source = this.runsByStatus.get(filter.status) ?? [];
    else source = this.runs.values();
    const matching: StoredRun[] = [];
    for (const run of source) if (!filter.status || run.status === filter.status) matching.push(run);
    // Newest first; the id breaks ties so the cursor is a total order.
    matching.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
    let start = 0;
    if (filter.cursor) {
      const [time, id] = JSON.parse(Buffer.from(filter.cursor, "base64url").toString()) as [number, string];
      const t = time - this.base;
      start = matching.findIndex((r) => r.createdAt < t || (r.createdAt === t && r.id > id));
      if (start < 0) start = matching.length;
    }
    const limit = Math.max(1, Math.min(filter.limit ?? 50, 1000));
    const runs = matching.slice(start, start + limit);
    const last = runs.at(-1);
    const nextCursor =
      last && start + limit < matching.length
        ? Buffer.from(JSON.stringify([last.createdAt + this.base, last.id])).toString("base64url")
        : undefined;
    return { runs: runs.map((r) => this.runOut(r)), nextCursor };
  }

  // Stages --------------------------------------------------------------------------------------

  private indexStage(stage: StoredStage): void {
    if (stage.status === "SUSPENDED") this.suspendedStages.add(stage);
    else if (stage.status === "RUNNING") this.runningStages.add(stage);
  }

  private unindexStage(stage: StoredStage): void {
    if (stage.status === "SUSPENDED") this.suspendedStages.delete(stage);
    else if (stage.status === "RUNNING") this.runningStages.delete(stage);
  }

  /** Inserts by stageNumber after equal ones, or at `at` (an undone delete goes back where it was). */
  private insertStage(slot: RunSlot, stage: StoredStage, at?: number): void {
    const stages = slot.stages;
    let i = stages.length;
    if (at !== undefined) i = at;
    else while (i > 0 && stages[i - 1]!.stageNumber > stage.stageNumber) i--;
    if (i === stages.length) stages.push(stage);
    else stages.splice(i, 0, stage);
    if (slot.stageMap) slot.stageMap.set(stage.stageId, stage);
    else if (stages.length >= STAGE_MAP_FROM) slot.stageMap = new Map(stages.map((s) => [s.stageId, s]));
    this.indexStage(stage);
  }

  /** Returns where the stage was. */
  private removeStage(slot: RunSlot, stage: StoredStage): number {
    const index = slot.stages.indexOf(stage);
    if (index >= 0) slot.stages.splice(index, 1);
    slot.stageMap?.delete(stage.stageId);
    this.unindexStage(stage);
    return index;
  }

  private touchStage(stage: StoredStage): void {
    if (this.log !== null && stage.txMark !== this.txId) {
      stage.txMark = this.txId;
      this.record(UNDO_STAGE_CHANGED, stage, (this.stageSnapshots.pop() ?? new StageSnapshot()).capture(stage), undefined);
    }
  }

  stageOut(stage: StoredStage): WorkflowStageRecord {
    return {
      // Made on read rather than kept: a stored id would cost 64 bytes per stage.
      id: `${stage.workflowRunId}:${stage.stageId}`,
      createdAt: this.date(stage.createdAt),
      updatedAt: this.date(stage.updatedAt),
      version: stage.version,
      workflowRunId: stage.workflowRunId,
      stageId: stage.stageId,
      stageName: stage.stageName,
      stageNumber: stage.stageNumber,
      executionGroup: stage.executionGroup,
      status: stage.status,
      attempt: stage.attempt,
      leaseOwner: stage.leaseOwner,
      leaseExpiresAt: this.dateOrNull(stage.leaseExpiresAt),
      retryAt: this.dateOrNull(stage.retryAt),
      startedAt: this.dateOrNull(stage.startedAt),
      completedAt: this.dateOrNull(stage.completedAt),
      duration: stage.duration,
      outputData: copyOut(stage.outputData),
      config: copyOut(stage.config),
      suspendedState: copyOut(stage.suspendedState),
      resumeData: copyOut(stage.resumeData),
      nextPollAt: this.dateOrNull(stage.nextPollAt),
      pollInterval: stage.pollInterval,
      maxWaitUntil: this.dateOrNull(stage.maxWaitUntil),
      metrics: copyOut(stage.metrics),
      errorMessage: stage.errorMessage,
    };
  }

  createStage(input: CreateStageInput): WorkflowStageRecord {
    const runId = input.workflowRunId;
    const existing = this.slots.get(runId);
    if (existing?.findStage(input.stageId)) {
      throw new PersistenceConflictError(`Stage ${input.stageId} of run ${runId} already exists`);
    }
    const config = copyIn(input.config ?? null);
    const slot = existing ?? this.slotFor(runId);
    const stage = new StoredStage(
      this.now(),
      runId,
      input.stageId,
      input.stageName,
      input.stageNumber,
      input.executionGroup,
      input.status,
      input.attempt ?? 0,
      config,
    );
    if (input.leaseOwner) stage.leaseOwner = input.leaseOwner;
    if (input.leaseExpiresAt) stage.leaseExpiresAt = this.timeOrNull(input.leaseExpiresAt);
    if (input.startedAt) stage.startedAt = this.timeOrNull(input.startedAt);
    this.insertStage(slot, stage);
    if (this.log !== null) {
      stage.txMark = this.txId;
      this.record(UNDO_STAGE_CREATED, stage, slot, undefined);
    }
    return this.stageOut(stage);
  }

  getStage(workflowRunId: string, stageId: string): WorkflowStageRecord | null {
    const stage = this.slots.get(workflowRunId)?.findStage(stageId);
    return stage ? this.stageOut(stage) : null;
  }

  getStagesByRun(workflowRunId: string): WorkflowStageRecord[] {
    const stages = this.slots.get(workflowRunId)?.stages;
    if (!stages) return [];
    const result: WorkflowStageRecord[] = new Array(stages.length);
    for (let i = 0; i < stages.length; i++) result[i] = this.stageOut(stages[i]!);
    return result;
  }

  updateStage(workflowRunId: string, stageId: string, patch: UpdateStageInput): WorkflowStageRecord {
    const stage = this.slots.get(workflowRunId)?.findStage(stageId);
    if (!stage) throw new PersistenceConflictError(`Stage ${stageId} of run ${workflowRunId} does not exist`);
    if (!conditionsHold(stage.version, stage.status, patch) || (patch.expectedAttempt !== undefined && stage.attempt !== patch.expectedAttempt)) {
      throw new PersistenceConflictError(
        `Stage ${stageId} of run ${workflowRunId} changed (${describeConditions(patch)}; now attempt ${stage.attempt}, ${stage.status})`,
      );
    }
    // Everything that can throw happens before the first write.
    const outputData = patch.outputData !== undefined ? copyIn(patch.outputData) : undefined;
    const suspendedState = patch.suspendedState !== undefined ? copyIn(patch.suspendedState) : undefined;
    const resumeData = patch.resumeData !== undefined ? copyIn(patch.resumeData) : undefined;
    const metrics = patch.metrics !== undefined ? copyIn(patch.metrics) : undefined;
    const now = this.now();
    this.touchStage(stage);
    if (patch.status !== undefined && patch.status !== stage.status) {
      this.unindexStage(stage);
      stage.status = patch.status;
      this.indexStage(stage);
    }
    if (patch.attempt !== undefined) stage.attempt = patch.attempt;
    if (patch.leaseOwner !== undefined) stage.leaseOwner = patch.leaseOwner;
    if (patch.leaseExpiresAt !== undefined) stage.leaseExpiresAt = this.timeOrNull(patch.leaseExpiresAt);
    if (patch.retryAt !== undefined) stage.retryAt = this.timeOrNull(patch.retryAt);
    if (patch.startedAt !== undefined) stage.startedAt = this.timeOrNull(patch.startedAt);
    if (patch.completedAt !== undefined) stage.completedAt = this.timeOrNull(patch.completedAt);
    if (patch.duration !== undefined) stage.duration = patch.duration;
    if (outputData !== undefined) stage.outputData = outputData;
    if (suspendedState !== undefined) stage.suspendedState = suspendedState;
    if (resumeData !== undefined) stage.resumeData = resumeData;
    if (patch.nextPollAt !== undefined) stage.nextPollAt = this.timeOrNull(patch.nextPollAt);
    if (patch.pollInterval !== undefined) stage.pollInterval = patch.pollInterval;
    if (patch.maxWaitUntil !== undefined) stage.maxWaitUntil = this.timeOrNull(patch.maxWaitUntil);
    if (metrics !== undefined) stage.metrics = metrics;
    if (patch.errorMessage !== undefined) stage.errorMessage = patch.errorMessage;
    stage.compact();
    stage.version++;
    stage.updatedAt = now;
    return this.stageOut(stage);
  }

  deleteStage(workflowRunId: string, stageId: string): void {
    const slot = this.slots.get(workflowRunId);
    const stage = slot?.findStage(stageId);
    if (!slot || !stage) return;
    const index = this.removeStage(slot, stage);
    if (this.log !== null) this.record(UNDO_STAGE_DELETED, stage, slot, index);
  }

  getSuspendedStagesDue(now: Date, limit: number): WorkflowStageRecord[] {
    const t = now.getTime() - this.base;
    const due: StoredStage[] = [];
    for (const stage of this.suspendedStages) if (stage.nextPollAt !== null && stage.nextPollAt <= t) due.push(stage);
    due.sort((a, b) => a.nextPollAt! - b.nextPollAt!);
    return due.slice(0, limit).map((s) => this.stageOut(s));
  }

  getStagesWithExpiredLease(now: Date, limit: number): WorkflowStageRecord[] {
    const t = now.getTime() - this.base;
    const result: WorkflowStageRecord[] = [];
    for (const stage of this.runningStages) {
      if (result.length >= limit) break;
      if (stage.leaseExpiresAt !== null && stage.leaseExpiresAt <= t) result.push(this.stageOut(stage));
    }
    return result;
  }

  // Logs ----------------------------------------------------------------------------------------

  createLogs(logs: CreateLogInput[]): void {
    if (logs.length === 0) return;
    const metadata = logs.map((log) => copyIn(log.metadata ?? null));
    const now = this.now();
    for (let i = 0; i < logs.length; i++) {
      const log = logs[i]!;
      const slot = this.slotFor(log.workflowRunId);
      const list = slot.logs ?? (slot.logs = []);
      if (this.log !== null) this.record(UNDO_LOGS_APPENDED, slot, list.length, undefined);
      list.push(new StoredLog(randomUUID(), now, log.stageId ?? null, log.level, log.message, metadata[i]!));
    }
  }

  getLogsByRun(workflowRunId: string, options: { limit?: number } = {}): WorkflowLogRecord[] {
    const list = this.slots.get(workflowRunId)?.logs;
    if (!list) return [];
    return list.slice(0, options.limit ?? list.length).map((l) => ({
      id: l.id,
      createdAt: this.date(l.createdAt),
      workflowRunId,
      stageId: l.stageId,
      level: l.level,
      message: l.message,
      metadata: copyOut(l.metadata),
    }));
  }

  // Outbox --------------------------------------------------------------------------------------

  private eventOut(slot: RunSlot, index: number): OutboxRecord {
    const sequence = index + 1;
    const publishedAt = slot.times[2 * index + 1]!;
    const delivery = slot.delivery?.get(index);
    const dlqAt = delivery ? delivery.dlqAt : null;
    return {
      id: `${slot.id}:${sequence}`,
      workflowRunId: slot.id,
      sequence,
      eventType: slot.eventTypes[index]!,
      payload: copyOut(slot.payloads[index]!),
      causationId: slot.causationIds[index]!,
      occurredAt: new Date(slot.times[2 * index]!),
      publishedAt: publishedAt === publishedAt ? new Date(publishedAt) : null,
      retryCount: delivery ? delivery.retryCount : 0,
      dlqAt: dlqAt === null ? null : new Date(dlqAt),
    };
  }

  private syncPending(slot: RunSlot): void {
    if (slot.pending > 0) this.runsWithPendingEvents.add(slot);
    else this.runsWithPendingEvents.delete(slot);
  }

  /**
   * Sets an event's delivery fields (publishedAt NaN: unpublished) and keeps the pending count,
   * pending runs and dead letters in step.
   */
  private setEventState(slot: RunSlot, index: number, publishedAt: number, retryCount: number, dlqAt: number | null): void {
    const wasPending = slot.isPending(index);
    const previous = slot.delivery?.get(index);
    const wasDead = previous !== undefined && previous.dlqAt !== null;
    slot.times[2 * index + 1] = publishedAt;
    if (retryCount !== 0 || dlqAt !== null) {
      if (previous) {
        previous.retryCount = retryCount;
        previous.dlqAt = dlqAt;
      } else (slot.delivery ??= new Map()).set(index, new EventDelivery(retryCount, dlqAt));
    } else if (previous) slot.delivery!.delete(index);
    const isPending = slot.isPending(index);
    if (wasPending !== isPending) {
      slot.pending += isPending ? 1 : -1;
      if (isPending && index < slot.scanFrom) slot.scanFrom = index;
      this.syncPending(slot);
    }
    if (wasDead !== (dlqAt !== null)) {
      const id = `${slot.id}:${index + 1}`;
      if (dlqAt !== null) this.deadLettered.set(id, slot);
      else this.deadLettered.delete(id);
    }
  }

  /** Removes the events from `length` on (a rolled-back append). */
  private truncateEvents(slot: RunSlot, length: number): void {
    for (let i = slot.eventCount - 1; i >= length; i--) {
      if (slot.isPending(i)) slot.pending--;
      const delivery = slot.delivery?.get(i);
      if (delivery) {
        if (delivery.dlqAt !== null) this.deadLettered.delete(`${slot.id}:${i + 1}`);
        slot.delivery!.delete(i);
      }
    }
    slot.eventTypes.length = length;
    slot.payloads.length = length;
    slot.causationIds.length = length;
    slot.times.length = 2 * length;
    if (slot.scanFrom > length) slot.scanFrom = length;
    this.syncPending(slot);
  }

  /** Looks up every key before anything changes, so a missing event changes nothing. */
  private eventSlots(keys: readonly OutboxEventKey[]): RunSlot[] {
    const slots: RunSlot[] = new Array(keys.length);
    let last: RunSlot | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const slot = last && last.id === key.workflowRunId ? last : this.slots.get(key.workflowRunId);
      if (!slot || !(key.sequence >= 1 && key.sequence <= slot.eventCount) || !Number.isInteger(key.sequence)) {
        throw new PersistenceConflictError(`Outbox event ${key.workflowRunId}:${key.sequence} does not exist`);
      }
      slots[i] = last = slot;
    }
    return slots;
  }

  private changeEvent(slot: RunSlot, index: number, publishedAt: number, retryCount: number, dlqAt: number | null): void {
    if (this.log !== null) {
      const delivery = slot.delivery?.get(index);
      const before = new EventState(slot.times[2 * index + 1]!, delivery ? delivery.retryCount : 0, delivery ? delivery.dlqAt : null);
      this.record(UNDO_EVENT_CHANGED, slot, index, before);
    }
    this.setEventState(slot, index, publishedAt, retryCount, dlqAt);
  }

  appendOutboxEvents(inputs: CreateOutboxEventInput[]): OutboxRecord[] {
    // Every run must exist before anything is written, so a failed append writes nothing.
    const count = inputs.length;
    for (let i = 0; i < count; i++) {
      const runId = inputs[i]!.workflowRunId;
      if (!this.runs.has(runId)) throw new PersistenceConflictError(`Run ${runId} does not exist`);
    }
    // Copies first: a payload that cannot be copied throws before anything is written.
    const payloads: Record<string, unknown>[] = new Array(count);
    for (let i = 0; i < count; i++) payloads[i] = copyIn(inputs[i]!.payload);
    const written: OutboxRecord[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const input = inputs[i]!;
      const run = this.runs.get(input.workflowRunId)!;
      const slot = run.slot;
      // Events of one command share their causation id: store it once. The comparison of two
      // equal concatenated strings also flattens them (a causation id such as
      // `job.execute:<run>:<stage>:<attempt>` is a tree of four cons cells until then).
      let causationId = input.causationId;
      if (causationId === slot.lastCausationId) causationId = slot.lastCausationId;
      else slot.lastCausationId = causationId;
      const index = slot.eventCount;
      if (this.log !== null) this.record(UNDO_EVENTS_APPENDED, slot, index, undefined);
      slot.eventTypes.push(input.eventType);
      slot.payloads.push(payloads[i]!);
      slot.causationIds.push(causationId);
      slot.times.push(input.occurredAt.getTime(), NaN);
      slot.pending++;
      this.runsWithPendingEvents.add(slot);
      written[i] = this.eventOut(slot, index);
      // A finished run's lists keep no spare capacity.
      if (TERMINAL_STATUSES.has(run.status) && (i === count - 1 || inputs[i + 1]!.workflowRunId !== run.id)) slot.trim();
    }
    return written;
  }

  getUnpublishedOutboxEvents(limit: number): OutboxRecord[] {
    const result: OutboxRecord[] = [];
    if (limit <= 0) return result;
    for (const slot of this.runsWithPendingEvents) {
      const count = slot.eventCount;
      let i = slot.scanFrom;
      while (i < count && !slot.isPending(i)) i++;
      slot.scanFrom = i;
      for (; i < count; i++) {
        if (!slot.isPending(i)) continue;
        result.push(this.eventOut(slot, i));
        if (result.length >= limit) return result;
      }
    }
    return result;
  }

  getOutboxEventsByRun(workflowRunId: string, options: { afterSequence?: number; limit?: number } = {}): OutboxRecord[] {
    const slot = this.slots.get(workflowRunId);
    if (!slot) return [];
    const count = slot.eventCount;
    const after = Math.max(0, options.afterSequence ?? 0);
    const end = Math.min(count, after + (options.limit ?? count));
    const result: OutboxRecord[] = [];
    for (let i = after; i < end; i++) result.push(this.eventOut(slot, i));
    return result;
  }

  markOutboxEventsPublished(keys: OutboxEventKey[], publishedAt: Date): void {
    const slots = this.eventSlots(keys);
    const at = publishedAt.getTime();
    for (let i = 0; i < keys.length; i++) {
      const slot = slots[i]!;
      const index = keys[i]!.sequence - 1;
      const delivery = slot.delivery?.get(index);
      this.changeEvent(slot, index, at, delivery ? delivery.retryCount : 0, delivery ? delivery.dlqAt : null);
    }
  }

  incrementOutboxRetryCount(key: OutboxEventKey): number {
    const slot = this.eventSlots([key])[0]!;
    const index = key.sequence - 1;
    const delivery = slot.delivery?.get(index);
    const retryCount = (delivery ? delivery.retryCount : 0) + 1;
    this.changeEvent(slot, index, slot.times[2 * index + 1]!, retryCount, delivery ? delivery.dlqAt : null);
    return retryCount;
  }

  moveOutboxEventToDLQ(key: OutboxEventKey, at: Date): void {
    const slot = this.eventSlots([key])[0]!;
    const index = key.sequence - 1;
    const delivery = slot.delivery?.get(index);
    this.changeEvent(slot, index, slot.times[2 * index + 1]!, delivery ? delivery.retryCount : 0, at.getTime());
  }

  getDLQOutboxEvents(limit: number): OutboxRecord[] {
    const result: OutboxRecord[] = [];
    for (const [id, slot] of this.deadLettered) {
      if (result.length >= limit) break;
      result.push(this.eventOut(slot, Number(id.slice(slot.id.length + 1)) - 1));
    }
    return result;
  }

  replayDLQOutboxEvents(keys: OutboxEventKey[]): void {
    const slots = this.eventSlots(keys);
    for (let i = 0; i < keys.length; i++) this.changeEvent(slots[i]!, keys[i]!.sequence - 1, NaN, 0, null);
  }

  // Idempotency and locks -----------------------------------------------------------------------

  private idempotencyOf(commandType: string): Map<string, StoredIdempotency> {
    let map = this.idempotency.get(commandType);
    if (!map) this.idempotency.set(commandType, (map = new Map()));
    return map;
  }

  private writeIdempotency(map: Map<string, StoredIdempotency>, key: string, next: StoredIdempotency | undefined): void {
    if (this.log !== null) this.record(UNDO_IDEMPOTENCY, map, key, map.get(key));
    if (next) map.set(key, next);
    else map.delete(key);
  }

  acquireIdempotencyKey(key: string, commandType: string, options: { now: Date; staleAfterMs: number }): IdempotencyAcquireResult {
    const map = this.idempotencyOf(commandType);
    const existing = map.get(key);
    if (existing?.completed) return { status: "completed", result: existing.result };
    const now = this.time(options.now);
    if (existing && now - existing.createdAt < options.staleAfterMs) {
      return { status: "in_progress", since: this.date(existing.createdAt) };
    }
    this.writeIdempotency(map, key, new StoredIdempotency(false, null, now));
    return { status: "acquired" };
  }

  completeIdempotencyKey(key: string, commandType: string, result: unknown): void {
    const map = this.idempotencyOf(commandType);
    const existing = map.get(key);
    this.writeIdempotency(map, key, new StoredIdempotency(true, result, existing ? existing.createdAt : this.now()));
  }

  releaseIdempotencyKey(key: string, commandType: string): void {
    const map = this.idempotency.get(commandType);
    if (map?.has(key)) this.writeIdempotency(map, key, undefined);
  }

  tryAcquireLock(name: string, owner: string, options: { now: Date; ttlMs: number }): boolean {
    const lock = this.locks.get(name);
    const now = options.now.getTime();
    if (lock && lock.owner !== owner && lock.expiresAt > now) return false;
    if (this.log !== null) this.record(UNDO_LOCK, name, lock, undefined);
    this.locks.set(name, new Lock(owner, now + options.ttlMs));
    return true;
  }

  releaseLock(name: string, owner: string): void {
    const lock = this.locks.get(name);
    if (lock?.owner !== owner) return;
    if (this.log !== null) this.record(UNDO_LOCK, name, lock, undefined);
    this.locks.delete(name);
  }
}
