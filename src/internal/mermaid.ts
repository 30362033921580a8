/**
 * Small helpers to write Mermaid text safely.
 *
 * @internal
 */

/** A label inside `["…"]`: quotes and angle brackets become entities. */
export const label = (text: string): string =>
  text.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;")

/** A node id that is always valid: t0, t1, … */
export const nodeId = (index: number): string => `t${index}`

/** A gantt task name cannot contain ":" or "#" (they start metadata / comments). */
export const ganttName = (text: string): string => text.replace(/[:#;]/g, " ")
