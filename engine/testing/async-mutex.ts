/** Serialises async critical sections; the in-memory adapters use it to make transactions isolated. */
export class AsyncMutex {
  private locked = false;
  private readonly waiters: (() => void)[] = [];

  async run<T>(critical: () => Promise<T> | T): Promise<T> {
    if (this.locked) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.locked = true;
    try {
      return await critical();
    } finally {
      const next = this.waiters.shift();
      // Hand the lock straight to the next waiter so nobody can barge in between.
      if (next) next();
      else this.locked = false;
    }
  }
}
