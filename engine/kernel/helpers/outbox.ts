import type { KernelDeps } from "../deps.js";
import type { KernelEventInput } from "../events.js";
import type { Persistence } from "../ports.js";
import type { CreateOutboxEventInput } from "../records.js";

const noop = (): void => undefined;

/** Writes events to the outbox inside the caller's transaction, stamped with the kernel's clock. */
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
    const event = events[i]!;
    // Object.assign onto a fresh object rather than a spread with extra fields: the spread's
    // copy-then-extend costs several times the allocation on this hot path.
    const payload = Object.assign({}, event) as Record<string, unknown>;
    payload.workflowRunId = workflowRunId;
    payload.timestamp = timestamp;
    records[i] = { workflowRunId, eventType: event.type, payload, causationId, occurredAt: now };
  }
  return tx.appendOutboxEvents(records).then(noop);
}
