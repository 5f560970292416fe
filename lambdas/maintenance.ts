/**
 * Maintenance: every minute (EventBridge rule) one tick claims pending runs, polls suspended
 * stages, reaps stale leases, re-drives stuck runs and flushes the outbox, within the invocation's
 * time budget. A wake-up of one suspended stage (EventBridge Scheduler) polls only that stage.
 */
import type { Context } from "aws-lambda";
import { createServerlessHost } from "../engine/hosts/serverless/index.js";
import { ENV_VARS } from "../engine/aws/definitions.js";
import type { WorkflowRegistry } from "../engine/kernel/ports.js";
import { METRIC, SERVICE_NAME } from "./metric-names.js";
import { awsRuntime } from "./runtime/aws-runtime.js";
import type { EngineRuntime } from "./runtime/engine-runtime.js";
import { createObservability, instrument, MetricUnit } from "./runtime/observability.js";

/** What a scheduled wake-up carries (engine/aws/eventbridge/scheduler.ts: ScheduledCommandInput). */
export interface WakeUpEvent {
  source: "stageflow.scheduler";
  command: { type: "stage.pollSuspended"; workflowRunId: string; stageId: string };
}

export interface MaintenanceHandlerOptions {
  registry: WorkflowRegistry;
  /** @default the AWS runtime from the construct's environment variables */
  runtime?: EngineRuntime;
}

/** Leaves this much of the invocation for the last step to finish and metrics to flush. */
const SAFETY_MARGIN_MS = 15_000;

/** Events younger than this are left to the Streams publisher. */
const OUTBOX_BACKSTOP_AGE_MS = 60_000;

/** Creates the maintenance Lambda handler. */
export function createMaintenanceHandler(options: MaintenanceHandlerOptions) {
  const observability = createObservability(SERVICE_NAME.maintenance);
  const { logger, metrics } = observability;
  return async (event: unknown, context: Context) =>
    instrument(observability, context, async () => {
      // This function is the wake-up target; its own ARN cannot be in its environment (a cycle).
      process.env[ENV_VARS.schedulerTargetArn] ??= context.invokedFunctionArn;
      const runtime = options.runtime ?? awsRuntime(options.registry, observability);
      if (isWakeUp(event)) {
        const { workflowRunId, stageId } = event.command;
        const result = await runtime.kernel.dispatch({ type: "stage.pollSuspended", workflowRunId, stageId });
        logger.info("Wake-up handled", { workflowRunId, stageId, ...result });
        return result;
      }
      const host = createServerlessHost({
        kernel: runtime.kernel,
        jobTransport: runtime.jobTransport,
        workerId: `maintenance:${context.awsRequestId}`,
        // The Streams publisher delivers events within seconds; the flush only picks up what it gave up on.
        maintenance: { outboxMinAgeMs: OUTBOX_BACKSTOP_AGE_MS },
      });
      const tick = await host.runMaintenanceTick({ timeBudgetMs: Math.max(1_000, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS) });
      const stuck = tick.stuckRuns.redriven + tick.stuckRuns.failed;
      metrics.addMetric(METRIC.stuckRuns, MetricUnit.Count, stuck);
      metrics.addMetric(METRIC.eventsPublished, MetricUnit.Count, tick.outbox.published);
      (stuck || tick.skipped.length ? logger.warn.bind(logger) : logger.info.bind(logger))("Maintenance tick", {
        claimedRuns: tick.claimed.length,
        suspended: tick.suspended,
        staleLeases: tick.staleLeases,
        stuckRuns: tick.stuckRuns,
        outbox: tick.outbox,
        skipped: tick.skipped,
      });
      // A failing step is reported (and alarms on the error metric) without stopping the others.
      for (const failure of tick.errors) logger.error(`Maintenance step ${failure.step} failed`, { error: failure.error as Error });
      if (tick.errors.length) throw new AggregateError(tick.errors.map((f) => f.error), `Maintenance steps failed: ${tick.errors.map((f) => f.step).join(", ")}`);
      return tick;
    });
}

function isWakeUp(event: unknown): event is WakeUpEvent {
  const candidate = event as Partial<WakeUpEvent> | null;
  const command = candidate?.command;
  return candidate?.source === "stageflow.scheduler" && command?.type === "stage.pollSuspended" && typeof command.workflowRunId === "string" && typeof command.stageId === "string";
}
