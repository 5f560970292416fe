import type { AICallLogger } from "../core/ai-call-logger.js";
import type {
  BlobStore,
  Clock,
  EventSink,
  JobTransport,
  Persistence,
  Scheduler,
  Timers,
  WorkflowRegistry,
} from "./ports.js";

/** What `createKernel` needs: the seven ports plus optional services and tuning. */
export interface KernelConfig {
  persistence: Persistence;
  blobStore: BlobStore;
  jobTransport: JobTransport;
  eventSink: EventSink;
  scheduler: Scheduler;
  clock: Clock;
  registry: WorkflowRegistry;
  /** Where stages' model calls are recorded; the kernel rolls their cost onto stages and runs. */
  aiCallLogger?: AICallLogger;
  /** Timers for lease heartbeats. @default real timers (FakeClock provides fake ones) */
  timers?: Timers;
  /** Default lease owner for `job.execute`. @default "kernel" */
  workerId?: string;
  /** How long a claimed stage attempt is leased before another worker may take it over. @default 60000 */
  leaseMs?: number;
  /** How often a running stage extends its lease. @default leaseMs / 3 */
  heartbeatIntervalMs?: number;
  /** Outputs whose JSON is larger than this go to the BlobStore. @default 65536 */
  inlineOutputLimitBytes?: number;
  /** An idempotency key left in progress (by a crash) for this long can be taken over. @default 300000 */
  idempotencyStaleAfterMs?: number;
  /** Publish attempts of one event before it is dead-lettered. @default 5 */
  outboxMaxRetries?: number;
  /** Randomness for retry jitter (injectable for deterministic tests). @default Math.random */
  random?: () => number;
}

export type KernelDeps = Required<Omit<KernelConfig, "aiCallLogger">> & Pick<KernelConfig, "aiCallLogger">;
