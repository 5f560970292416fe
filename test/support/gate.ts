import { z } from "zod";
import { defineStage } from "../../engine/index.js";

/** A promise the test opens by hand: stage code awaits it to stay "in flight" as long as the test wants. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
  readonly isOpen: boolean;
}

export function createGate(): Gate {
  let open!: () => void;
  let isOpen = false;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return {
    promise,
    open() {
      isOpen = true;
      open();
    },
    get isOpen() {
      return isOpen;
    },
  };
}

/** Resolves once `condition()` holds, checking after each turn of the event loop (no wall-clock waits). */
export async function until(condition: () => boolean | Promise<boolean>, maxTurns = 10_000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (await condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`condition not met after ${maxTurns} event-loop turns`);
}

/** A no-op stage whose execution waits for `gate`; `started()` tells whether it has begun. */
export function stageHeldBy(gate: Gate, id = "slow") {
  let started = false;
  const stage = defineStage({
    id,
    name: id,
    schemas: { input: z.unknown(), output: z.object({}), config: z.object({}) },
    async execute() {
      started = true;
      await gate.promise;
      return { output: {} };
    },
  });
  return { stage, started: () => started };
}
