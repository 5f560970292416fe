import { PersistenceConflictError } from "../errors.js";

/** First backoff window after a conflict (ms); it doubles per try up to BACKOFF_CAP_MS. */
const BACKOFF_BASE_MS = 4;
const BACKOFF_CAP_MS = 200;

/**
 * Runs a read-decide-write transaction again when a concurrent writer won. Each try re-reads,
 * so it decides on fresh state (and may find nothing left to do).
 *
 * Losers back off with exponential backoff and full jitter (a random wait in [0, base·2^n],
 * capped): when many commits of one run collide (a parallel group finishing at once), the
 * contenders spread out after a few tries instead of re-reading and colliding in lock step,
 * so each of them needs only a few tries (each try costs its reads) and none runs out of tries.
 */
export function retryOnConflict<T>(attempt: () => Promise<T>, maxTries = 40): Promise<T> {
  return tryOnce(attempt, maxTries, 1);
}

// Promise chaining instead of an async loop: every commit passes through here, and the first
// try (almost always the only one) then costs one reaction instead of an async frame.
function tryOnce<T>(attempt: () => Promise<T>, maxTries: number, tryNumber: number): Promise<T> {
  let pending: Promise<T>;
  try {
    pending = attempt();
  } catch (error) {
    pending = Promise.reject(error);
  }
  return pending.catch((error: unknown) => {
    if (!(error instanceof PersistenceConflictError) || tryNumber >= maxTries) throw error;
    const window = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (tryNumber - 1));
    return new Promise((resolve) => setTimeout(resolve, Math.random() * window)).then(() => tryOnce(attempt, maxTries, tryNumber + 1));
  });
}
