import type { CommandResult, KernelCommand } from "./commands.js";
import type { KernelConfig, KernelDeps } from "./deps.js";
import { handleJobExecute } from "./handlers/job-execute.js";
import { withIdempotency } from "./handlers/idempotency.js";
import { handleLeaseReapStale } from "./handlers/lease-reap-stale.js";
import { handleOutboxFlush } from "./handlers/outbox-flush.js";
import { handlePluginReplayDLQ } from "./handlers/plugin-replay-dlq.js";
import { handleRunCancel } from "./handlers/run-cancel.js";
import { handleRunClaimPending } from "./handlers/run-claim-pending.js";
import { handleRunCreate } from "./handlers/run-create.js";
import { handleRunReapStuck } from "./handlers/run-reap-stuck.js";
import { handleRunRerunFrom } from "./handlers/run-rerun-from.js";
import { handleRunTransition } from "./handlers/run-transition.js";
import { handleStagePollSuspended } from "./handlers/stage-poll-suspended.js";
import { systemTimers } from "./system-clock.js";

/** The command dispatcher: commands in, results out; every effect goes through the ports. */
export interface Kernel {
  dispatch<T extends KernelCommand>(command: T): Promise<CommandResult<T>>;
  /** The resolved configuration (ports and tuning) this kernel runs with. */
  readonly config: Readonly<KernelDeps>;
}

function resolveConfig(config: KernelConfig): KernelDeps {
  const required = ["persistence", "blobStore", "jobTransport", "eventSink", "scheduler", "clock", "registry"] as const;
  for (const port of required) {
    if (!config[port]) throw new TypeError(`createKernel: missing port "${port}"`);
  }
  const leaseMs = config.leaseMs ?? 60_000;
  // Every field spelled out, no spread: an object spread can give each kernel's deps a hidden
  // class of its own, and then every new kernel deoptimizes the hot path (every function that
  // reads deps) until it is compiled again: about a thousand slow stages after each createKernel.
  return {
    persistence: config.persistence,
    blobStore: config.blobStore,
    jobTransport: config.jobTransport,
    eventSink: config.eventSink,
    scheduler: config.scheduler,
    clock: config.clock,
    registry: config.registry,
    aiCallLogger: config.aiCallLogger,
    timers: config.timers ?? systemTimers,
    workerId: config.workerId ?? "kernel",
    leaseMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs ?? Math.max(10, Math.floor(leaseMs / 3)),
    inlineOutputLimitBytes: config.inlineOutputLimitBytes ?? 64 * 1024,
    idempotencyStaleAfterMs: config.idempotencyStaleAfterMs ?? 300_000,
    outboxMaxRetries: config.outboxMaxRetries ?? 5,
    random: config.random ?? Math.random,
  };
}

/**
 * Creates the kernel from its ports.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * const kernel = createKernel({
 *   persistence: new InMemoryWorkflowPersistence({ clock }),
 *   blobStore: new InMemoryBlobStore(),
 *   jobTransport: new InMemoryJobQueue({ clock }),
 *   eventSink: new CollectingEventSink(),
 *   scheduler: new NoopScheduler(),
 *   clock,
 *   registry: { getWorkflow: (id) => (id === workflow.id ? workflow : undefined) },
 * });
 * const { workflowRunId } = await kernel.dispatch({ type: "run.create", idempotencyKey: "k1", workflowId: workflow.id, input });
 * ```
 */
export function createKernel(config: KernelConfig): Kernel {
  const deps = resolveConfig(config);

  // Not async: every job passes through here, and an async wrapper costs an extra promise and
  // frame per command. A synchronous throw still reaches the caller as a rejection (dispatch).
  function run(command: KernelCommand): Promise<unknown> {
    switch (command.type) {
      case "run.create":
        return withIdempotency(deps, command.idempotencyKey, command.type, (scope) => handleRunCreate(deps, command, scope));
      case "job.execute":
        return withIdempotency(deps, command.idempotencyKey, command.type, () => handleJobExecute(deps, command));
      case "run.claimPending":
        return handleRunClaimPending(deps, command);
      case "run.transition":
        return handleRunTransition(deps, command);
      case "run.cancel":
        return handleRunCancel(deps, command);
      case "run.rerunFrom":
        return handleRunRerunFrom(deps, command);
      case "stage.pollSuspended":
        return handleStagePollSuspended(deps, command);
      case "lease.reapStale":
        return handleLeaseReapStale(deps, command);
      case "run.reapStuck":
        return handleRunReapStuck(deps, command);
      case "outbox.flush":
        return handleOutboxFlush(deps, command);
      case "plugin.replayDLQ":
        return handlePluginReplayDLQ(deps, command);
      default: {
        const unknown = command as { type?: unknown };
        throw new TypeError(`Unknown command type ${JSON.stringify(unknown.type)}`);
      }
    }
  }

  return {
    config: deps,
    dispatch: <T extends KernelCommand>(command: T) => {
      try {
        return run(command) as Promise<CommandResult<T>>;
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}
