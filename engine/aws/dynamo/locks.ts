/** Named locks with expiry (e.g. the outbox flush), held by one owner at a time. */
import { lockKey } from "./keys.js";
import type { Scope } from "./scope.js";
import { ttlSeconds } from "./codec.js";

/** Stages the claim; the commit holds only if the lock is free, expired or already ours. */
export async function tryAcquireLock(scope: Scope, name: string, owner: string, options: { now: Date; ttlMs: number }): Promise<boolean> {
  const key = lockKey(name);
  const current = await scope.uow.read(key);
  const now = options.now.getTime();
  if (current && current.owner !== owner && (current.expiresAtMs as number) > now) return false;
  const lock = {
    entity: "lock",
    name,
    owner,
    expiresAtMs: now + options.ttlMs,
    // TTL cleans up locks nobody released, long after they stopped mattering.
    expiresAt: ttlSeconds(new Date(now + options.ttlMs), 24 * 3600),
  };
  if (!current) scope.uow.create(key, lock);
  else {
    scope.uow.update(key, current, {
      set: lock,
      conditions: [{ attr: "owner", op: "=", value: current.owner }, { attr: "expiresAtMs", op: "=", value: current.expiresAtMs }],
    });
  }
  return true;
}

export async function releaseLock(scope: Scope, name: string, owner: string): Promise<void> {
  const key = lockKey(name);
  const current = await scope.uow.read(key);
  if (current?.owner !== owner) return;
  scope.uow.delete(key, [{ attr: "owner", op: "=", value: owner }]);
}
