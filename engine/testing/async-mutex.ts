/**
 * Serialises async critical sections; the in-memory adapters use it to make transactions isolated.
 *
 * Besides `run`, it exposes the lock itself: a caller whose critical section is synchronous can
 * check `locked` and, when it is free, just run (nothing can interleave with synchronous code),
 * paying for a promise only when it has to wait its turn.
 */
export class AsyncMutex {
  /** True while a holder is inside its critical section; waiters then queue in `acquire`. */
  locked = false;
  /** FIFO of waiters; `head` is the next one, so handing on is O(1) without `shift()`. */
  private waiters: (() => void)[] = [];
  private head = 0;

  /** Takes the lock without waiting; false if it is held. */
  tryLock(): boolean {
    if (this.locked) return false;
    this.locked = true;
    return true;
  }

  /** Resolves once the caller holds the lock (at once if it is free). */
  acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Hands the lock straight to the next waiter, so nobody can barge in between, or frees it. */
  release(): void {
    const waiters = this.waiters;
    if (this.head < waiters.length) {
      const next = waiters[this.head]!;
      waiters[this.head++] = undefined as unknown as () => void;
      if (this.head === waiters.length) {
        waiters.length = 0;
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= waiters.length) {
        this.waiters = waiters.slice(this.head);
        this.head = 0;
      }
      next();
    } else {
      this.locked = false;
    }
  }

  async run<T>(critical: () => Promise<T> | T): Promise<T> {
    await this.acquire();
    try {
      return await critical();
    } finally {
      this.release();
    }
  }
}
