/**
 * Tasks, graphs, plans and reports print like Effect's own data types: `console.log` (Node's
 * `util.inspect`) shows what they are made of — not `[Getter]` for a report's or a plan's lazy fields,
 * not a task's internals — and the fields JSON, spreading and `toEqual` see stay the same.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import * as util from "node:util"
import { Task, TaskGraph } from "../../src/index.js"

class Db extends Context.Tag("Db")<Db, string>() {}

const db = Task.make("db", { provides: Db, run: Effect.succeed("pg://local") })
const use = Task.make("use", { requires: [Db], run: Effect.map(Db, (url) => url.length) })
const lint = Task.make("lint", { after: [db], run: Effect.void })
const graph = TaskGraph.make("small", [db, use, lint])

describe("printing: what console.log and String show", () => {
  it.effect("a report: its tasks and edges; String(report) is its JSON", () =>
    Effect.gen(function*() {
      const report = yield* TaskGraph.run(graph)
      const inspected = util.inspect(report, { depth: 4 })
      expect(inspected).not.toContain("[Getter]")
      expect(inspected).toContain("name: 'use'")
      expect(inspected).toContain("{ from: 'db', to: 'use', tag: 'Db' }")
      expect(JSON.parse(String(report))).toEqual(JSON.parse(JSON.stringify(report)))
      expect(Object.keys(report)).toEqual([
        "graph", "status", "startedAt", "finishedAt", "durationMs", "tasks", "criticalPath", "failed",
        "dependencies", "precedences", "groups"
      ])
    }))

  it.effect("a plan: its layers and edges; String(plan) is its JSON", () =>
    Effect.gen(function*() {
      const plan = yield* TaskGraph.validate(graph)
      const inspected = util.inspect(plan, { depth: 4 })
      expect(inspected).not.toContain("[Getter]")
      expect(inspected).toContain("layers: [ [ 'db' ], [ 'use', 'lint' ] ]")
      expect(JSON.parse(String(plan))).toEqual({
        graph: "small",
        tasks: ["db", "use", "lint"],
        layers: [["db"], ["use", "lint"]],
        dependencies: [{ from: "db", to: "use", tag: "Db" }],
        precedences: [{ before: "db", after: "lint" }],
        external: []
      })
    }))

  it("a task and a graph: their names, tags and edges, not the task object's internals", () => {
    expect(util.inspect(use)).toBe(util.inspect({ _id: "Task", name: "use", provides: [], requires: ["Db"], after: [] }))
    expect(String(use)).toBe("Task(use)")
    const inspected = util.inspect(graph, { depth: 4 }).replace(/\s+/g, " ")
    expect(inspected).toContain("_id: 'TaskGraph'")
    expect(inspected).toContain("{ _id: 'Task', name: 'lint', provides: [], requires: [], after: [ 'db' ] }")
    expect(inspected).not.toContain("TaskImpl")
    expect(String(graph)).toBe("TaskGraph(small, 3 tasks)")
  })
})
