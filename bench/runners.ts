/**
 * The same workload through three runners: effect-taskgraph, p-graph 2.0.0,
 * and a minimal hand-written Promise runner (the floor for any JS runner).
 */
import { Context, Effect } from "effect"
import { PGraph } from "p-graph"
import { Task, TaskGraph } from "effect-taskgraph"

export type Runner = "taskgraph" | "p-graph" | "promise"
export const runners: ReadonlyArray<Runner> = ["taskgraph", "p-graph", "promise"]

/** What a task does: return at once, or sleep some milliseconds. */
export type Body = { readonly kind: "noop" } | { readonly kind: "sleep"; readonly ms: ReadonlyArray<number> }

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Builds a runnable for the workload; `build` is timed apart from `run`. */
export const prepare = (runner: Runner, deps: ReadonlyArray<ReadonlyArray<number>>, body: Body): () => Promise<unknown> => {
  const n = deps.length
  switch (runner) {
    case "promise": {
      return () =>
        new Promise<void>((resolve, reject) => {
          const waiting = new Int32Array(n)
          const dependents: Array<Array<number>> = Array.from({ length: n }, () => [])
          for (let i = 0; i < n; i++) {
            waiting[i] = deps[i]!.length
            for (const d of deps[i]!) dependents[d]!.push(i)
          }
          const values: Array<unknown> = new Array(n)
          let done = 0
          const start = (i: number): void => {
            const work = body.kind === "noop" ? Promise.resolve(i) : delay(body.ms[i]!).then(() => i)
            work.then((v) => {
              values[i] = v
              if (++done === n) return resolve()
              for (const j of dependents[i]!) if (--waiting[j] === 0) start(j)
            }, reject)
          }
          for (let i = 0; i < n; i++) if (waiting[i] === 0) start(i)
        })
    }
    case "p-graph": {
      const nodes = new Map<string, { run: () => Promise<unknown> }>()
      const edges: Array<[string, string]> = []
      for (let i = 0; i < n; i++) {
        nodes.set(String(i), {
          run: body.kind === "noop" ? () => Promise.resolve(i) : () => delay(body.ms[i]!).then(() => i)
        })
        for (const d of deps[i]!) edges.push([String(d), String(i)])
      }
      return () => new PGraph(nodes, edges).run()
    }
    case "taskgraph": {
      const graph = buildTaskGraph(deps, body)
      return () => Effect.runPromise(TaskGraph.run(graph))
    }
  }
}

/** A task per node: each provides its own tag and requires its dependencies' tags. */
export const buildTaskGraph = (deps: ReadonlyArray<ReadonlyArray<number>>, body: Body) => {
  const n = deps.length
  const tags = Array.from({ length: n }, (_, i) => Context.GenericTag<"Node", number>(`node ${i}`))
  const tasks = new Array<Task.Task<number, never, never, "Node", "Node">>(n)
  for (let i = 0; i < n; i++) {
    tasks[i] = Task.make(`task ${i}`, {
      provides: tags[i]!,
      requires: deps[i]!.map((d) => tags[d]!),
      run: body.kind === "noop" ? Effect.succeed(i) : Effect.as(Effect.sleep(body.ms[i]!), i)
    })
  }
  return TaskGraph.make("bench", tasks)
}
