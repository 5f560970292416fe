export * from "./types.js";
export * from "./retry.js";
export * from "./stage.js";
export * from "./workflow.js";
export * from "./stage-ids.js";
export * from "./config-presets.js";
export * from "./ai-call-logger.js";
