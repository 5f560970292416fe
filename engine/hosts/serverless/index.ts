import type { JobExecuteResult } from "../../kernel/commands.js";
import type { Kernel } from "../../kernel/kernel.js";
import type { JobTransport } from "../../kernel/ports.js";
import { dispatchJob, executeAndAcknowledge, type JobMessage } from "../shared/execute-job.js";
import { runMaintenance, type MaintenanceOptions, type MaintenanceTickResult } from "../shared/maintenance-tick.js";

export type { JobMessage, MaintenanceTickResult };

export interface ServerlessHostConfig {
  kernel: Kernel;
  jobTransport: JobTransport;
  workerId: string;
  /** Options of `runMaintenanceTick`. */
  maintenance?: Omit<MaintenanceOptions, "workerId">;
}

export interface HandleJobResult {
  outcome: JobExecuteResult["outcome"];
  error?: string;
  /** The result was discarded (run cancelled / lease lost): acknowledge, do not retry. */
  ghost?: boolean;
  /** For `deferred`, `retrying` and `suspended`: when the stage wants attention again. */
  nextPollAt?: Date;
}

export interface ServerlessHost {
  /** Executes one job the platform already delivered (an SQS record, a queue message). The caller acknowledges it. */
  handleJob(msg: JobMessage): Promise<HandleJobResult>;
  /** Dequeues and executes jobs until the queue is empty or a limit is hit; acknowledges each. */
  processAvailableJobs(opts?: { maxJobs?: number; timeBudgetMs?: number }): Promise<{ processed: number; succeeded: number; failed: number }>;
  /** One maintenance pass, for a cron trigger. */
  runMaintenanceTick(opts?: { timeBudgetMs?: number }): Promise<MaintenanceTickResult>;
}

/**
 * Stateless single-invocation methods for queue-driven platforms (AWS Lambda, Cloudflare, ...).
 *
 * @example
 * ```ts
 * const host = createServerlessHost({ kernel, jobTransport, workerId: context.awsRequestId });
 * const { outcome } = await host.handleJob(JSON.parse(record.body));
 * ```
 */
export function createServerlessHost(config: ServerlessHostConfig): ServerlessHost {
  const { kernel, jobTransport, workerId } = config;
  return {
    async handleJob(msg) {
      const result = await dispatchJob(kernel, msg, workerId);
      return { outcome: result.outcome, error: result.error, ghost: result.ghost, nextPollAt: result.nextPollAt };
    },
    async processAvailableJobs(opts = {}) {
      const started = Date.now();
      let processed = 0;
      let succeeded = 0;
      let failed = 0;
      while (processed < (opts.maxJobs ?? Infinity) && (opts.timeBudgetMs === undefined || Date.now() - started < opts.timeBudgetMs)) {
        const job = await jobTransport.dequeue(workerId);
        if (!job) break;
        processed++;
        const { result } = await executeAndAcknowledge(kernel, jobTransport, job, workerId);
        if (result && result.outcome !== "failed") succeeded++;
        else failed++;
      }
      return { processed, succeeded, failed };
    },
    runMaintenanceTick(opts = {}) {
      return runMaintenance(kernel, { ...config.maintenance, ...opts, workerId });
    },
  };
}
