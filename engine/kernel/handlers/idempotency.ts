import type { KernelDeps } from "../deps.js";
import { IdempotencyInProgressError } from "../errors.js";
import type { Persistence } from "../ports.js";

/** Lets a handler store its result under the idempotency key in the transaction that produced it. */
export interface IdempotencyScope {
  completeInTransaction(tx: Persistence, result: unknown): Promise<void>;
}

export const NO_IDEMPOTENCY: IdempotencyScope = { completeInTransaction: async () => undefined };

/**
 * Same key, same result: a replay returns the stored result; a key being executed right now
 * throws IdempotencyInProgressError; a key left in progress by a crash is taken over after
 * `idempotencyStaleAfterMs`. A failed command releases its key so it can be retried.
 */
export function withIdempotency<T>(
  deps: KernelDeps,
  key: string | undefined,
  commandType: string,
  execute: (scope: IdempotencyScope) => Promise<T>,
): Promise<T> {
  // Without a key (every job.execute a host sends) there is nothing to wait for: no async frame.
  return key ? executeOnce(deps, key, commandType, execute) : execute(NO_IDEMPOTENCY);
}

async function executeOnce<T>(
  deps: KernelDeps,
  key: string,
  commandType: string,
  execute: (scope: IdempotencyScope) => Promise<T>,
): Promise<T> {
  const acquired = await deps.persistence.acquireIdempotencyKey(key, commandType, {
    now: deps.clock.now(),
    staleAfterMs: deps.idempotencyStaleAfterMs,
  });
  if (acquired.status === "completed") return acquired.result as T;
  if (acquired.status === "in_progress") throw new IdempotencyInProgressError(key, commandType);
  let completedInTransaction = false;
  const scope: IdempotencyScope = {
    async completeInTransaction(tx, result) {
      await tx.completeIdempotencyKey(key, commandType, result);
      completedInTransaction = true;
    },
  };
  let result: T;
  try {
    result = await execute(scope);
  } catch (error) {
    if (!completedInTransaction) await deps.persistence.releaseIdempotencyKey(key, commandType).catch(() => undefined);
    throw error;
  }
  if (!completedInTransaction) await deps.persistence.completeIdempotencyKey(key, commandType, result);
  return result;
}
