/** Runs a graph with only the HTML reporter and reads the page's data back. */
import * as fs from "node:fs"
import { Effect } from "effect"
import { Reporter, type TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"
import * as Graphs from "./graphs.js"

export interface PageTask {
  readonly name: string
  readonly status: string
  readonly attempts: number
  /** milliseconds since the run started; null when it did not happen */
  readonly ready: number | null
  readonly release: number | null
  readonly error: string | null
  readonly cause: string | null
  readonly blockedBy: string | null
  readonly stoppedBy: string | null
  readonly lines: ReadonlyArray<readonly [number, number, string]>
  readonly group: number | null
  readonly fromContext: ReadonlyArray<string>
}
export interface PageGroup {
  readonly name: string
  readonly graph: string
  readonly task: number | null
  readonly parent: number | null
}
export interface Page {
  readonly kind: string
  readonly graph: string
  readonly outcome: string
  readonly exitCode: number | null
  readonly condensed: boolean
  readonly tasks: ReadonlyArray<PageTask>
  readonly criticalPath: ReadonlyArray<number>
  readonly groups: ReadonlyArray<PageGroup>
  readonly context: ReadonlyArray<{ readonly tag: string; readonly requiredBy: ReadonlyArray<number> }>
}

/** The data the page carries, parsed back from its JSON script. */
export const dataOf = (html: string): Page => {
  const m = /<script type="application\/json" id="taskgraph-data">([\s\S]*?)<\/script>/.exec(html)
  if (m === null) throw new Error("no data script in the page")
  return JSON.parse(m[1]!) as Page
}

/** Runs the graph with the HTML reporter only (nothing on the terminal). */
export const runWithHtml = <E, P>(graph: TaskGraph.TaskGraph<E, never, P>, file: string, mode: "fail-fast" | "continue" = "fail-fast") =>
  Main.run(graph, { reporter: [Reporter.html(file)], mode }).pipe(Effect.either)

/** The nested graph's run (graphs inside tasks, a tag from the context) with the HTML reporter only. */
export const runNested = (file: string, options: { readonly maxDrawn?: number } = {}) =>
  Main.run(Graphs.nested(), { reporter: [Reporter.html(file, options)] }).pipe(
    Effect.provideService(Graphs.Registry, { url: "registry.test" })
  )

export const read = (file: string) => fs.readFileSync(file, "utf8")
