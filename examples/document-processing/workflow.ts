import { z } from "zod";
import { WorkflowBuilder } from "../../engine/index.js";
import { assembleReport, classify, DocumentInput, extractKeywords, extractText, paragraphGists, summarize } from "./stages.js";

/**
 * An AI document-processing pipeline: extract, then summarise / classify / find keywords in
 * parallel, then a provider batch that suspends until done, then the report.
 */
export const documentProcessing = new WorkflowBuilder(
  "document-processing",
  "Document processing",
  "Summarises, classifies and annotates a document with model calls and one provider batch",
  DocumentInput,
  z.object({ title: z.string(), summary: z.string() }),
)
  .pipe(extractText)
  .parallel([summarize, classify, extractKeywords])
  .pipe(paragraphGists)
  .pipe(assembleReport)
  .build();

export const SAMPLE_DOCUMENT = {
  title: "Durable workflows on AWS",
  text: [
    "A workflow engine keeps long-running business processes alive across crashes, deploys and retries.",
    "Each stage of a pipeline commits its output in a conditional write, so a slow or stale worker can never overwrite the result of a newer attempt.",
    "Batch APIs from model providers cost half as much as interactive calls but take hours; the engine suspends the stage and polls until the batch completes.",
    "Every state change is published as an event, in order, so dashboards and downstream systems follow each run as it happens.",
  ].join("\n\n"),
};
