/**
 * The same workload through four runners: effect-taskgraph, p-graph 2.0.0,
 * a minimal hand-written Promise runner (the floor for any JS runner), and
 * the same runner on bare Effect fibers (the floor for anything on Effect).
 * Python asyncio runs the same graphs from bench/asyncio_runner.py.
 */
import { Context, Effect, Runtime } from "effect"
import { PGraph } from "p-graph"
import { Task, TaskGraph } from "effect-taskgraph"

export type Runner = "taskgraph" | "p-graph" | "promise" | "effect-floor"
export const runners: ReadonlyArray<Runner> = ["taskgraph", "p-graph", "promise", "effect-floor"]

/**
 * What a task does: return a value at once (`noop`: `Effect.succeed(i)`, already a value, so
 * effect-taskgraph needs no fiber for it; `sync`: `Effect.sync(() => i)`, which needs a fiber to
 * evaluate — for the JavaScript runners both are `Promise.resolve(i)`), or sleep some milliseconds.
 */
export type Body =
  | { readonly kind: "noop" }
  | { readonly kind: "sync" }
  | { readonly kind: "sleep"; readonly ms: ReadonlyArray<number> }

const effectBody = (body: Body, i: number): Effect.Effect<number> =>
  body.kind === "noop"
    ? Effect.succeed(i)
    : body.kind === "sync"
    ? Effect.sync(() => i)
    : Effect.as(Effect.sleep(body.ms[i]!), i)

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** For the hand-written runners: how many tasks each waits for, and who waits for each. */
const inDegrees = (deps: ReadonlyArray<ReadonlyArray<number>>) => {
  const n = deps.length
  const waiting = new Int32Array(n)
  const dependents: Array<Array<number>> = Array.from({ length: n }, () => [])
  for (let i = 0; i < n; i++) {
    waiting[i] = deps[i]!.length
    for (const d of deps[i]!) dependents[d]!.push(i)
  }
  return { waiting, dependents }
}

/** Builds a runnable for the workload; `build` is timed apart from `run`. */
export const prepare = (runner: Runner, deps: ReadonlyArray<ReadonlyArray<number>>, body: Body): () => Promise<unknown> => {
  const n = deps.length
  switch (runner) {
    case "promise": {
      return () =>
        new Promise<void>((resolve, reject) => {
          const { waiting, dependents } = inDegrees(deps)
          const values: Array<unknown> = new Array(n)
          let done = 0
          const start = (i: number): void => {
            const work = body.kind !== "sleep" ? Promise.resolve(i) : delay(body.ms[i]!).then(() => i)
            work.then((v) => {
              values[i] = v
              if (++done === n) return resolve()
              for (const j of dependents[i]!) if (--waiting[j] === 0) start(j)
            }, reject)
          }
          for (let i = 0; i < n; i++) if (waiting[i] === 0) start(i)
        })
    }
    case "effect-floor": {
      // the same in-degree runner with one plain Effect fiber per task (Runtime.runFork, no services,
      // scopes, report): what Effect's fiber runtime itself costs, below any Effect-based scheduler
      const runtime = Runtime.defaultRuntime
      const effects = Array.from({ length: n }, (_, i) => effectBody(body, i))
      return () =>
        new Promise<void>((resolve, reject) => {
          const { waiting, dependents } = inDegrees(deps)
          const values: Array<unknown> = new Array(n)
          const ready: Array<number> = []
          let done = 0
          let draining = false
          // a queue, not recursion: a chain of synchronous fibers would otherwise nest 100k deep
          const drain = () => {
            if (draining) return
            draining = true
            while (ready.length > 0) {
              const i = ready.pop()!
              Runtime.runFork(runtime, effects[i]!).addObserver((exit) => {
                if (exit._tag === "Failure") return reject(new Error("task failed"))
                values[i] = exit.value
                if (++done === n) return resolve()
                for (const j of dependents[i]!) if (--waiting[j] === 0) ready.push(j)
                drain()
              })
            }
            draining = false
          }
          for (let i = 0; i < n; i++) if (waiting[i] === 0) ready.push(i)
          drain()
        })
    }
    case "p-graph": {
      const nodes = new Map<string, { run: () => Promise<unknown> }>()
      const edges: Array<[string, string]> = []
      for (let i = 0; i < n; i++) {
        nodes.set(String(i), {
          run: body.kind !== "sleep" ? () => Promise.resolve(i) : () => delay(body.ms[i]!).then(() => i)
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

/** One tag per node. Effect captures a stack trace per tag (~4 µs and ~0.5 KB each): timed apart. */
export const makeTags = (n: number) => Array.from({ length: n }, (_, i) => Context.GenericTag<"Node", number>(`node ${i}`))

/** A task per node: each provides its own tag and requires its dependencies' tags. */
export const buildTaskGraph = (
  deps: ReadonlyArray<ReadonlyArray<number>>,
  body: Body,
  tags: ReadonlyArray<Context.Tag<"Node", number>> = makeTags(deps.length)
) => {
  const n = deps.length
  const tasks = new Array<Task.Task<number, never, never, "Node", "Node">>(n)
  for (let i = 0; i < n; i++) {
    tasks[i] = Task.make(`task ${i}`, {
      provides: tags[i]!,
      requires: deps[i]!.map((d) => tags[d]!),
      run: effectBody(body, i)
    })
  }
  return TaskGraph.make("bench", tasks)
}
