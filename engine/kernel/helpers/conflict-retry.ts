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
export async function retryOnConflict<T>(attempt: () => Promise<T>, maxTries = 40): Promise<T> {
  for (let tryNumber = 1; ; tryNumber++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof PersistenceConflictError) || tryNumber >= maxTries) throw error;
      const window = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (tryNumber - 1));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * window));
    }
  }
}
