/**
 * JUnit XML: one testsuite for the graph, one testcase per task. Failed and
 * timed-out tasks carry a `<failure>` with the error and the tail of their
 * output; skipped and interrupted tasks a `<skipped>` that says why; every
 * task that printed something a `<system-out>` with its last lines.
 *
 * @internal
 */
import { Option } from "effect"
import type * as RunReport from "../../RunReport.js"
import * as Text from "./text.js"
import { prettyCause } from "../errorText.js"

/** Escapes text for XML and removes what XML 1.0 cannot hold (escapes, control characters). */
export const escape = (text: string): string =>
  Text.stripAnsi(text)
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]/g, "")
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")

const seconds = (ms: number) => (ms / 1000).toFixed(3)

/** The XML document for a finished run; `tails` has the last output lines of each task. */
export const render = (
  report: RunReport.RunReport,
  tails: ReadonlyMap<string, ReadonlyArray<string>>,
  errors: ReadonlyMap<string, string>
): string => {
  const total = Option.getOrElse(report.durationMs, () => 0)
  let failures = 0
  let skipped = 0
  const cases: Array<string> = []
  for (const t of report.tasks) {
    const time = seconds(Option.getOrElse(t.durationMs, () => 0))
    const tail = tails.get(t.name) ?? []
    const body: Array<string> = []
    const error = errors.get(t.name) ?? Option.getOrUndefined(Option.map(t.cause, prettyCause))
    switch (t.status) {
      case "failed":
      case "timed out": {
        failures++
        const lines = Text.errorLines(error ?? t.status, 200)
        const message = lines[0] ?? t.status
        const text = [
          ...lines,
          ...(tail.length > 0 ? ["", `last ${Text.count(tail.length, "line")} of output:`, ...tail] : [])
        ].join("\n")
        body.push(
          `      <failure message="${escape(message)}" type="${t.status === "failed" ? "TaskFailed" : "TaskTimedOut"}">${escape(text)}</failure>`
        )
        break
      }
      case "skipped":
      case "interrupted":
      case "pending":
      case "running": {
        skipped++
        const note = Text.reportStopNote(t)
        const why = note !== undefined
          ? `${t.status}: ${note}`
          : t.status === "skipped"
          ? "skipped: the run stopped"
          : `${t.status}: the run was interrupted`
        body.push(`      <skipped message="${escape(why)}"/>`)
        break
      }
      default:
        break
    }
    if (tail.length > 0) body.push(`      <system-out>${escape(tail.join("\n"))}</system-out>`)
    const open = `    <testcase name="${escape(t.name)}" classname="${escape(report.graph)}" time="${time}"`
    cases.push(body.length === 0 ? `${open}/>` : `${open}>\n${body.join("\n")}\n    </testcase>`)
  }
  const attrs = `name="${escape(report.graph)}" tests="${report.tasks.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(total)}"`
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites ${attrs}>`,
    `  <testsuite ${attrs} timestamp="${new Date(report.startedAt).toISOString().replace(/\.\d+Z$/, "")}">`,
    ...cases,
    `  </testsuite>`,
    `</testsuites>`,
    ``
  ].join("\n")
}
