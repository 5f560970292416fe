import type { WorkflowRegistry } from "../engine/kernel/index.js";
import type { Workflow } from "../engine/index.js";
import { documentProcessing } from "./document-processing/workflow.js";

/** The workflows this deployment serves (the stack bundles this file into its Lambdas). */
export const workflows = [documentProcessing] as unknown as Workflow[];

export const registry: WorkflowRegistry = {
  getWorkflow: (id) => workflows.find((w) => w.id === id),
  listWorkflows: () => workflows,
};
