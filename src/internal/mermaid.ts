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

/** Human duration: 850 ms, 12.3 s, 4 min 05 s. */
export const formatMs = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  const minutes = Math.floor(ms / 60_000)
  const seconds = Math.round((ms % 60_000) / 1000)
  return `${minutes} min ${String(seconds).padStart(2, "0")} s`
}
