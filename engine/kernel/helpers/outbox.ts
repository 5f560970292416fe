import type { KernelDeps } from "../deps.js";
import type { KernelEventInput } from "../events.js";
import type { Persistence } from "../ports.js";
import type { CreateOutboxEventInput } from "../records.js";

const noop = (): void => undefined;

/**
 * Writes events to the outbox inside the caller's transaction, stamped with the kernel's clock.
 * The event objects become the payloads (run id and timestamp added in place): callers pass
 * fresh literals, and the persistence copies what it stores, so a second copy here would only
 * add garbage on the hot path.
 */
export function recordEvents(
  tx: Persistence,
  deps: KernelDeps,
  workflowRunId: string,
  events: KernelEventInput[],
  causationId: string,
): Promise<void> {
  if (events.length === 0) return Promise.resolve();
  const now = deps.clock.now();
  const timestamp = now.toISOString();
  const records: CreateOutboxEventInput[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const payload = events[i] as KernelEventInput & { workflowRunId: string; timestamp: string };
    payload.workflowRunId = workflowRunId;
    payload.timestamp = timestamp;
    records[i] = { workflowRunId, eventType: payload.type, payload, causationId, occurredAt: now };
  }
  return tx.appendOutboxEvents(records).then(noop);
}
