import type { KernelDeps } from "../deps.js";
import type { KernelEventInput } from "../events.js";
import type { Persistence } from "../ports.js";

/** Writes events to the outbox inside the caller's transaction, stamped with the kernel's clock. */
export async function recordEvents(
  tx: Persistence,
  deps: KernelDeps,
  workflowRunId: string,
  events: KernelEventInput[],
  causationId: string,
): Promise<void> {
  if (events.length === 0) return;
  const now = deps.clock.now();
  await tx.appendOutboxEvents(
    events.map((event) => ({
      workflowRunId,
      eventType: event.type,
      payload: { ...event, workflowRunId, timestamp: now.toISOString() },
      causationId,
      occurredAt: now,
    })),
  );
}
