import { PersistenceConflictError } from "../errors.js";

/**
 * Runs a read-decide-write transaction again when a concurrent writer won. Each try re-reads,
 * so it decides on fresh state (and may find nothing left to do).
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, maxTries = 25): Promise<T> {
  for (let tryNumber = 1; ; tryNumber++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof PersistenceConflictError) || tryNumber >= maxTries) throw error;
      // Back off a little so a burst of parallel commits on one run spreads out.
      if (tryNumber > 2) await new Promise((resolve) => setTimeout(resolve, Math.min(50, tryNumber * 2 * Math.random())));
    }
  }
}
