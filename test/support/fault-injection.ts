/**
 * Simulated crashes: a port wrapped so that one chosen call throws, either before the real call
 * (nothing of it happened) or after it (it happened, but the caller never learns). The kernel sees
 * exactly what a worker killed at that instruction would leave behind.
 */

export class SimulatedCrash extends Error {
  override name = "SimulatedCrash";
}

export interface FaultPlan {
  /** Method to fail. */
  method: string;
  /** 1-based number of the call (of that method) that fails. */
  onCall: number;
  /** "before": the call never reaches the adapter; "after": it completes, then the caller crashes. */
  when: "before" | "after";
}

export interface FaultInjector<T> {
  /** The wrapped port to hand to the kernel. */
  readonly port: T;
  /** Arms a fault (one at a time); calls are counted from now on. */
  arm(plan: FaultPlan): void;
  disarm(): void;
  /** Whether the armed fault has fired. */
  readonly fired: boolean;
  /** Calls of `method` seen since the last `arm`. */
  calls(method: string): number;
  /** Methods called since the last `arm`. */
  methods(): string[];
}

export function injectFaults<T extends object>(target: T): FaultInjector<T> {
  let plan: FaultPlan | undefined;
  let fired = false;
  const counts = new Map<string, number>();
  const port = new Proxy(target, {
    get(obj, property, receiver) {
      const value: unknown = Reflect.get(obj, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      const fn = value as (...args: unknown[]) => unknown;
      return async (...args: unknown[]) => {
        const n = (counts.get(property) ?? 0) + 1;
        counts.set(property, n);
        const hit = plan !== undefined && !fired && plan.method === property && plan.onCall === n;
        if (hit && plan!.when === "before") {
          fired = true;
          throw new SimulatedCrash(`crash before ${property} #${n}`);
        }
        const result = await fn.apply(obj, args);
        if (hit && plan!.when === "after") {
          fired = true;
          throw new SimulatedCrash(`crash after ${property} #${n}`);
        }
        return result;
      };
    },
  });
  return {
    port,
    arm(next) {
      plan = next;
      fired = false;
      counts.clear();
    },
    disarm() {
      plan = undefined;
    },
    get fired() {
      return fired;
    },
    calls: (method) => counts.get(method) ?? 0,
    methods: () => [...counts.keys()],
  };
}
