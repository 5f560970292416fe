import type { Clock, DequeueResult, EnqueueJobInput, JobRecord, JobTransport } from "../kernel/ports.js";
import { BinaryHeap, type HeapItem } from "./binary-heap.js";
import { systemClock } from "../kernel/system-clock.js";

const READY = 0;
const SCHEDULED = 1;
const LEASED = 2;
type JobState = typeof READY | typeof SCHEDULED | typeof LEASED;

/** A job from enqueue until it is completed, dropped or cancelled; nothing is kept after that. */
class QueuedJob implements HeapItem {
  /** Position in the ready or scheduled heap, -1 while leased. */
  heapIndex = -1;
  state: JobState = READY;
  deliveries = 0;
  workerId: string | null = null;
  /** Time of the lease (or its last heartbeat), null when not leased. Times are ms after the queue's base. */
  lockedAt: number | null = null;
  /** When the job was enqueued. */
  createdAt: number | null = null;
  /** Not delivered before this time; null: at once. */
  visibleAt: number | null = null;
  lastError: string | null = null;
  /** The run's other jobs, newest first: cancelling a run needs no Set per run. */
  newerInRun: QueuedJob | null = null;
  olderInRun: QueuedJob | null = null;

  constructor(
    readonly id: string,
    readonly workflowRunId: string,
    readonly workflowId: string,
    readonly stageId: string,
    readonly priority: number,
    readonly attempt: number,
    readonly payload: Record<string, unknown>,
    /** Insertion order: breaks priority ties by age even within one millisecond. */
    readonly seq: number,
  ) {}
}

export interface InMemoryJobQueueOptions {
  clock?: Clock;
  /** Deliveries before a failing job is dropped. @default 5 */
  maxDeliveries?: number;
}

/** The deterministic job id for (run, stage, attempt): enqueueing it twice delivers once. */
export function jobIdFor(job: Pick<EnqueueJobInput, "workflowRunId" | "stageId" | "attempt">): string {
  return `${job.workflowRunId}:${job.stageId}:${job.attempt}`;
}

const readyBefore = (a: QueuedJob, b: QueuedJob): boolean => (a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq);
const scheduledBefore = (a: QueuedJob, b: QueuedJob): boolean => a.visibleAt! < b.visibleAt!;

/**
 * Job queue in memory: priority first, then age; scheduled jobs wait in a time-ordered heap;
 * leases, stale-lease release and cancellation by run. Every operation is O(log n), and a job
 * leaves every structure once it is completed.
 */
export class InMemoryJobQueue implements JobTransport {
  private readonly jobs = new Map<string, QueuedJob>();
  /** Newest job of each run with jobs; the rest hang off it. */
  private readonly byRun = new Map<string, QueuedJob>();
  private readonly leased = new Set<QueuedJob>();
  private readonly ready = new BinaryHeap<QueuedJob>(readyBefore);
  private readonly scheduled = new BinaryHeap<QueuedJob>(scheduledBefore);
  private readonly listeners = new Set<() => void>();
  private readonly clock: Clock;
  private readonly maxDeliveries: number;
  private seq = 0;

  constructor(options: InMemoryJobQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxDeliveries = options.maxDeliveries ?? 5;
  }

  /** Called whenever a job may have become available (hosts use it to wake up at once). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Times are kept as ms after the first time the queue read (small integers, which V8 stores
   * inline, where epoch ms would each take a 16-byte box).
   */
  private base = NaN;

  private time(date: Date): number {
    const ms = date.getTime();
    if (this.base !== this.base) this.base = ms;
    return ms - this.base;
  }

  private now(): number {
    return this.time(this.clock.now());
  }

  private date(time: number): Date {
    return new Date(time + this.base);
  }

  /** Puts a job that is in no heap into the ready or the scheduled one. */
  private place(job: QueuedJob): void {
    if (job.visibleAt !== null && job.visibleAt > this.now()) {
      job.state = SCHEDULED;
      this.scheduled.push(job);
    } else {
      job.state = READY;
      this.ready.push(job);
      if (this.listeners.size > 0) for (const listener of this.listeners) listener();
    }
  }

  /** Takes a job out of whichever heap or lease it is in. */
  private detach(job: QueuedJob): void {
    if (job.state === LEASED) {
      this.leased.delete(job);
      job.workerId = null;
      job.lockedAt = null;
    } else if (job.state === READY) this.ready.remove(job);
    else this.scheduled.remove(job);
  }

  private add(input: EnqueueJobInput, id: string): void {
    const job = new QueuedJob(
      id,
      input.workflowRunId,
      input.workflowId,
      input.stageId,
      input.priority ?? 5,
      input.attempt,
      input.payload ?? {},
      this.seq++,
    );
    job.createdAt = this.now();
    if (input.scheduledFor) job.visibleAt = this.time(input.scheduledFor);
    this.jobs.set(id, job);
    const newest = this.byRun.get(job.workflowRunId);
    if (newest) {
      newest.newerInRun = job;
      job.olderInRun = newest;
    }
    this.byRun.set(job.workflowRunId, job);
    this.place(job);
  }

  async enqueue(input: EnqueueJobInput): Promise<string> {
    const id = jobIdFor(input);
    if (!this.jobs.has(id)) this.add(input, id);
    return id;
  }

  async enqueueParallel(inputs: EnqueueJobInput[]): Promise<string[]> {
    const ids: string[] = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      const id = jobIdFor(input);
      if (!this.jobs.has(id)) this.add(input, id);
      ids[i] = id;
    }
    return ids;
  }

  private promoteDueJobs(): void {
    if (this.scheduled.size === 0) return;
    const now = this.now();
    for (let top = this.scheduled.peek(); top && top.visibleAt! <= now; top = this.scheduled.peek()) {
      this.scheduled.pop();
      this.place(top);
    }
  }

  async dequeue(workerId = "worker"): Promise<DequeueResult | null> {
    this.promoteDueJobs();
    const job = this.ready.pop();
    if (!job) return null;
    job.state = LEASED;
    job.workerId = workerId;
    job.lockedAt = this.now();
    job.deliveries++;
    this.leased.add(job);
    return {
      jobId: job.id,
      workflowRunId: job.workflowRunId,
      workflowId: job.workflowId,
      stageId: job.stageId,
      priority: job.priority,
      attempt: job.attempt,
      maxAttempts: this.maxDeliveries,
      payload: job.payload,
    };
  }

  private remove(job: QueuedJob): void {
    this.jobs.delete(job.id);
    this.detach(job);
    const { newerInRun: newer, olderInRun: older } = job;
    if (newer) newer.olderInRun = older;
    else if (older) this.byRun.set(job.workflowRunId, older);
    else this.byRun.delete(job.workflowRunId);
    if (older) older.newerInRun = newer;
    job.newerInRun = job.olderInRun = null;
  }

  async complete(jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (job) this.remove(job);
  }

  async suspend(jobId: string, nextPollAt: Date): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job) return;
    this.detach(job);
    job.visibleAt = this.time(nextPollAt);
    this.place(job);
  }

  async fail(jobId: string, error: string, shouldRetry = true): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job) return;
    job.lastError = error;
    if (!shouldRetry || job.deliveries >= this.maxDeliveries) {
      this.remove(job);
      return;
    }
    this.detach(job);
    job.visibleAt = null;
    this.place(job);
  }

  async touchJob(jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (job?.state === LEASED) job.lockedAt = this.now();
  }

  async releaseStaleJobs(staleThresholdMs = 60_000): Promise<number> {
    const cutoff = this.now() - staleThresholdMs;
    let released = 0;
    for (const job of [...this.leased]) {
      if (job.lockedAt !== null && job.lockedAt <= cutoff) {
        this.detach(job);
        job.visibleAt = null;
        this.place(job);
        released++;
      }
    }
    return released;
  }

  async cancelByRun(workflowRunId: string): Promise<number> {
    let cancelled = 0;
    for (let job = this.byRun.get(workflowRunId); job; job = this.byRun.get(workflowRunId)) {
      this.remove(job);
      cancelled++;
    }
    return cancelled;
  }

  async getJobsByWorkflowRun(workflowRunId: string): Promise<JobRecord[]> {
    const records: JobRecord[] = [];
    // Oldest first, as enqueued.
    let job: QueuedJob | null = this.byRun.get(workflowRunId) ?? null;
    while (job?.olderInRun) job = job.olderInRun;
    for (; job; job = job.newerInRun) {
      records.push({
        id: job.id,
        workflowRunId: job.workflowRunId,
        workflowId: job.workflowId,
        stageId: job.stageId,
        status: job.state === LEASED ? "RUNNING" : job.state === SCHEDULED ? "SUSPENDED" : "PENDING",
        priority: job.priority,
        attempt: job.attempt,
        workerId: job.workerId,
        lockedAt: job.lockedAt === null ? null : this.date(job.lockedAt),
        nextPollAt: job.state === SCHEDULED && job.visibleAt !== null ? this.date(job.visibleAt) : null,
        createdAt: this.date(job.createdAt!),
      });
    }
    return records;
  }

  /** Jobs queued, scheduled or leased. */
  get size(): number {
    return this.jobs.size;
  }
}
