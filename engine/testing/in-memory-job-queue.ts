import type { Clock, DequeueResult, EnqueueJobInput, JobRecord, JobTransport } from "../kernel/ports.js";
import { BinaryHeap } from "./binary-heap.js";
import { systemClock } from "../kernel/system-clock.js";


interface QueuedJob {
  id: string;
  workflowRunId: string;
  workflowId: string;
  stageId: string;
  priority: number;
  attempt: number;
  deliveries: number;
  payload: Record<string, unknown>;
  createdAt: Date;
  /** Insertion order: breaks priority ties by age even within one millisecond. */
  seq: number;
  state: "READY" | "SCHEDULED" | "LEASED";
  visibleAt: number;
  workerId: string | null;
  lockedAt: Date | null;
  /** Bumped whenever the job leaves a heap position; stale heap entries are skipped. */
  generation: number;
  lastError: string | null;
}

interface HeapEntry {
  job: QueuedJob;
  generation: number;
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

/**
 * Job queue in memory: priority first, then age; scheduled jobs wait in a time-ordered heap;
 * leases, stale-lease release and cancellation by run. Every operation is O(log n).
 */
export class InMemoryJobQueue implements JobTransport {
  private readonly jobs = new Map<string, QueuedJob>();
  private readonly byRun = new Map<string, Set<string>>();
  private readonly leased = new Set<string>();
  private readonly ready = new BinaryHeap<HeapEntry>(
    (a, b) => (a.job.priority !== b.job.priority ? a.job.priority > b.job.priority : a.job.seq < b.job.seq),
  );
  private readonly scheduled = new BinaryHeap<HeapEntry>((a, b) => a.job.visibleAt < b.job.visibleAt);
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

  private place(job: QueuedJob): void {
    job.generation++;
    const entry = { job, generation: job.generation };
    if (job.visibleAt > this.clock.now().getTime()) {
      job.state = "SCHEDULED";
      this.scheduled.push(entry);
    } else {
      job.state = "READY";
      this.ready.push(entry);
      for (const listener of this.listeners) listener();
    }
  }

  async enqueue(input: EnqueueJobInput): Promise<string> {
    const id = jobIdFor(input);
    if (this.jobs.has(id)) return id;
    const job: QueuedJob = {
      id,
      workflowRunId: input.workflowRunId,
      workflowId: input.workflowId,
      stageId: input.stageId,
      priority: input.priority ?? 5,
      attempt: input.attempt,
      deliveries: 0,
      payload: input.payload ?? {},
      createdAt: this.clock.now(),
      seq: this.seq++,
      state: "READY",
      visibleAt: input.scheduledFor?.getTime() ?? 0,
      workerId: null,
      lockedAt: null,
      generation: 0,
      lastError: null,
    };
    this.jobs.set(id, job);
    let runJobs = this.byRun.get(job.workflowRunId);
    if (!runJobs) this.byRun.set(job.workflowRunId, (runJobs = new Set()));
    runJobs.add(id);
    this.place(job);
    return id;
  }

  async enqueueParallel(jobs: EnqueueJobInput[]): Promise<string[]> {
    const ids: string[] = [];
    for (const job of jobs) ids.push(await this.enqueue(job));
    return ids;
  }

  private promoteDueJobs(): void {
    const now = this.clock.now().getTime();
    for (let top = this.scheduled.peek(); top && top.job.visibleAt <= now; top = this.scheduled.peek()) {
      this.scheduled.pop();
      if (top.generation === top.job.generation && this.jobs.has(top.job.id)) this.place(top.job);
    }
  }

  async dequeue(workerId = "worker"): Promise<DequeueResult | null> {
    this.promoteDueJobs();
    for (let entry = this.ready.pop(); entry; entry = this.ready.pop()) {
      const job = entry.job;
      if (entry.generation !== job.generation || !this.jobs.has(job.id)) continue;
      job.generation++;
      job.state = "LEASED";
      job.workerId = workerId;
      job.lockedAt = this.clock.now();
      job.deliveries++;
      this.leased.add(job.id);
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
    return null;
  }

  private remove(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    this.jobs.delete(jobId);
    this.leased.delete(jobId);
    job.generation++;
    const runJobs = this.byRun.get(job.workflowRunId);
    runJobs?.delete(jobId);
    if (runJobs?.size === 0) this.byRun.delete(job.workflowRunId);
  }

  async complete(jobId: string): Promise<void> {
    this.remove(jobId);
  }

  async suspend(jobId: string, nextPollAt: Date): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job) return;
    this.leased.delete(jobId);
    job.workerId = null;
    job.lockedAt = null;
    job.visibleAt = nextPollAt.getTime();
    this.place(job);
  }

  async fail(jobId: string, error: string, shouldRetry = true): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job) return;
    job.lastError = error;
    if (!shouldRetry || job.deliveries >= this.maxDeliveries) {
      this.remove(jobId);
      return;
    }
    this.leased.delete(jobId);
    job.workerId = null;
    job.lockedAt = null;
    job.visibleAt = 0;
    this.place(job);
  }

  async touchJob(jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (job?.state === "LEASED") job.lockedAt = this.clock.now();
  }

  async releaseStaleJobs(staleThresholdMs = 60_000): Promise<number> {
    const cutoff = this.clock.now().getTime() - staleThresholdMs;
    let released = 0;
    for (const id of [...this.leased]) {
      const job = this.jobs.get(id)!;
      if (job.lockedAt && job.lockedAt.getTime() <= cutoff) {
        this.leased.delete(id);
        job.workerId = null;
        job.lockedAt = null;
        job.visibleAt = 0;
        this.place(job);
        released++;
      }
    }
    return released;
  }

  async cancelByRun(workflowRunId: string): Promise<number> {
    const ids = [...(this.byRun.get(workflowRunId) ?? [])];
    for (const id of ids) this.remove(id);
    return ids.length;
  }

  async getJobsByWorkflowRun(workflowRunId: string): Promise<JobRecord[]> {
    return [...(this.byRun.get(workflowRunId) ?? [])].map((id) => {
      const job = this.jobs.get(id)!;
      return {
        id: job.id,
        workflowRunId: job.workflowRunId,
        workflowId: job.workflowId,
        stageId: job.stageId,
        status: job.state === "LEASED" ? "RUNNING" : job.state === "SCHEDULED" ? "SUSPENDED" : "PENDING",
        priority: job.priority,
        attempt: job.attempt,
        workerId: job.workerId,
        lockedAt: job.lockedAt,
        nextPollAt: job.state === "SCHEDULED" ? new Date(job.visibleAt) : null,
        createdAt: job.createdAt,
      };
    });
  }

  /** Jobs queued, scheduled or leased. */
  get size(): number {
    return this.jobs.size;
  }
}
