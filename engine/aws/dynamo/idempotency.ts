/** Idempotency keys: conditional claim, takeover of a crashed holder's key, completion with TTL. */
import type { IdempotencyAcquireResult } from "../../kernel/records.js";
import { RETENTION } from "../definitions.js";
import { iso, ttlSeconds } from "./codec.js";
import { idempotencyKey } from "./keys.js";
import type { Scope } from "./scope.js";

/**
 * Reads the key and decides; the write that claims it holds only if the key is still as read
 * (absent, or the same stale IN_PROGRESS claim), so two callers can never both acquire it.
 */
export async function acquireIdempotencyKey(
  scope: Scope,
  key: string,
  commandType: string,
  options: { now: Date; staleAfterMs: number },
): Promise<IdempotencyAcquireResult> {
  const itemKey = idempotencyKey(commandType, key);
  const existing = await scope.uow.read(itemKey);
  if (existing?.status === "COMPLETED") {
    const restored = await scope.ctx.largeItems.restore({ ...existing });
    return { status: "completed", result: restored.result ?? null };
  }
  const claim = {
    entity: "idempotency",
    key,
    commandType,
    status: "IN_PROGRESS",
    result: null,
    createdAt: iso(options.now),
    createdAtMs: options.now.getTime(),
    expiresAt: ttlSeconds(options.now, RETENTION.idempotencySeconds),
  };
  if (!existing) {
    scope.uow.create(itemKey, claim);
    return { status: "acquired" };
  }
  const since = new Date(existing.createdAtMs as number);
  if (options.now.getTime() - since.getTime() < options.staleAfterMs) return { status: "in_progress", since };
  scope.uow.update(itemKey, existing, {
    set: claim,
    conditions: [{ attr: "status", op: "=", value: "IN_PROGRESS" }, { attr: "createdAtMs", op: "=", value: existing.createdAtMs }],
  });
  return { status: "acquired" };
}

export async function completeIdempotencyKey(scope: Scope, key: string, commandType: string, result: unknown): Promise<void> {
  const itemKey = idempotencyKey(commandType, key);
  const existing = await scope.uow.read(itemKey);
  const now = scope.clock.now();
  const fields = {
    status: "COMPLETED",
    result: result === undefined ? null : result,
    expiresAt: ttlSeconds(now, RETENTION.idempotencySeconds),
  };
  if (existing) {
    scope.uow.update(itemKey, existing, { set: fields });
  } else {
    scope.uow.create(itemKey, { entity: "idempotency", key, commandType, createdAt: iso(now), createdAtMs: now.getTime(), ...fields });
  }
}

export async function releaseIdempotencyKey(scope: Scope, key: string, commandType: string): Promise<void> {
  scope.uow.delete(idempotencyKey(commandType, key));
}
