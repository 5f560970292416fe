/**
 * In-process queue of the transactions that touch one run. Commits of one run conflict on the
 * run item (version, `lastEventSeq`): when the jobs of a parallel group run in one process (the
 * node host's concurrency slots), letting them all read, decide and commit at once makes all but
 * one fail and re-read, over and over. Queueing them per run inside the process turns those
 * retries into a short wait. It is only an optimisation: the write conditions still decide, so
 * other processes (other hosts, Lambda workers) stay correct and simply meet conflicts as before.
 * A waiter gives up waiting after `maxWaitMs` and goes ahead, so a transaction that touches a
 * second run, or waits on another transaction of its run, can never deadlock.
 */
export class RunGate {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly maxWaitMs: number) {}

  /** Waits for the transactions of `pk` queued before this one; returns the release function. */
  async enter(pk: string): Promise<() => void> {
    const previous = this.tails.get(pk);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous ? previous.then(() => mine) : mine;
    this.tails.set(pk, tail);
    if (previous) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([previous, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.maxWaitMs)))]);
      clearTimeout(timer);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.tails.get(pk) === tail) this.tails.delete(pk);
    };
  }
}
