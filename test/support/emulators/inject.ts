import { inject } from "vitest";
import { createLocalAwsClients, type LocalAwsClients, type LocalAwsResources } from "../../../engine/aws/local/index.js";

/** The emulators started by the global setup. */
export function localAws(): LocalAwsResources {
  return inject("localAws");
}

/** Fresh SDK clients on the emulators; destroy them in afterAll. */
export function localClients(): LocalAwsClients {
  return createLocalAwsClients(localAws());
}

/** A name no other test uses, so tests sharing the emulators never see each other's data. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
