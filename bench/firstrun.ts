/**
 * One first-run measurement, in a fresh process (bench/run-firstrun.ts spawns it, bundled by esbuild):
 *
 *   node --expose-gc bench/.build/firstrun.mjs <time|mem> <runner> <body> <shape> <n>
 *
 * The run measured is the FIRST one in the process (JIT cold, nothing warmed up): what a CLI or a CI
 * job pays. The bodies are real work: every task calls `work(i)` — `Effect.sync(() => work(i))`,
 * `Effect.promise(() => Promise.resolve(work(i)))`, or a 0–5 ms sleep then `work(i)`; the JavaScript
 * runners call the same function from a Promise. Timed: building the graph (tasks, edges), validating
 * and running it, to the last task done. Module loading is not timed (the same for every runner).
 * `taskgraph-sync`: the same graph as `taskgraph-after` made with `Task.sync` (opt-in: the scheduler
 * calls `work(i)` itself, no fiber per task), for sync bodies only; `taskgraph-sync-tags` the same with a
 * tag per task (each function is given its dependencies' services, and reads them). `taskgraph-promise`:
 * the `after` graph made with `Task.promise` (opt-in: the scheduler makes the call and awaits its Promise,
 * no fiber per task), its body the JavaScript runners' own, for Promise and sleep bodies.
 * A tag per task (`taskgraph-tags`): the workload's own `Context.GenericTag`s are made first and timed
 * apart (`tagsMs`, Effect's cost: a stack trace captured per tag). Prints one JSON line.
 */
import { Context, Effect, Runtime } from "effect"
import { PGraph } from "p-graph"
import { Task, TaskGraph } from "effect-taskgraph"
import { criticalPath, type Shape, sleeps, workload } from "./workloads.js"

export type FirstRunner = "taskgraph-after" | "taskgraph-sync" | "taskgraph-sync-tags" | "taskgraph-promise" | "taskgraph-tags" | "effect-floor" | "p-graph" | "promise"
export type FirstBody = "sync" | "promise" | "sleep"

const [mode, runner, body, shape, nText] = process.argv.slice(2) as [
  "time" | "mem",
  FirstRunner,
  FirstBody,
  Shape | "one",
  string
]
const n = Number(nText)
const deps: ReadonlyArray<ReadonlyArray<number>> = shape === "one" ? [[]] : workload(shape, n)
const durations = body === "sleep" ? sleeps(deps.length) : []

// The function every task must call: what a body does, kept observable so nothing is optimised away.
const sink = new Float64Array(deps.length)
const work = (i: number): number => {
  sink[i] = i * 0.5 + 1
  return i
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const jsBody = (i: number): Promise<number> =>
  body === "sleep" ? delay(durations[i]!).then(() => work(i)) : Promise.resolve(work(i))
const effectBody = (i: number): Effect.Effect<number> =>
  body === "sync"
    ? Effect.sync(() => work(i))
    : body === "promise"
    ? Effect.promise(() => Promise.resolve(work(i)))
    : Effect.zipRight(Effect.sleep(durations[i]!), Effect.sync(() => work(i)))

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const heap = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** Runs the workload once; returns what must stay alive for the memory figure. */
const runOnce = async (tags: ReadonlyArray<Context.Tag<"Node", number>>): Promise<unknown> => {
  const size = deps.length
  switch (runner) {
    case "taskgraph-after": {
      const tasks = new Array<Task.Task<number>>(size)
      for (let i = 0; i < size; i++) {
        const d = deps[i]!
        tasks[i] = Task.make(`task ${i}`, { after: d.map((j) => tasks[j]!), run: effectBody(i) })
      }
      const graph = TaskGraph.make("bench", tasks)
      const report = await Effect.runPromise(TaskGraph.run(graph))
      return [graph, report]
    }
    case "taskgraph-sync": {
      // opt-in: `Task.sync`, the same call made by the scheduler without a fiber (sync bodies only)
      if (body !== "sync") throw new Error(`taskgraph-sync runs sync bodies only, not ${body}`)
      const tasks = new Array<Task.Task<number>>(size)
      for (let i = 0; i < size; i++) {
        const d = deps[i]!
        tasks[i] = Task.sync(`task ${i}`, { after: d.map((j) => tasks[j]!), run: () => work(i) })
      }
      const graph = TaskGraph.make("bench", tasks)
      const report = await Effect.runPromise(TaskGraph.run(graph))
      return [graph, report]
    }
    case "taskgraph-promise": {
      // opt-in: `Task.promise`, the JavaScript runners' Promise body awaited without a fiber
      if (body === "sync") throw new Error("taskgraph-promise runs promise and sleep bodies only, not sync")
      const tasks = new Array<Task.Task<number>>(size)
      for (let i = 0; i < size; i++) {
        const d = deps[i]!
        tasks[i] = Task.promise(`task ${i}`, { after: d.map((j) => tasks[j]!), run: () => jsBody(i) })
      }
      const graph = TaskGraph.make("bench", tasks)
      const report = await Effect.runPromise(TaskGraph.run(graph))
      return [graph, report]
    }
    case "taskgraph-sync-tags": {
      if (body !== "sync") throw new Error(`taskgraph-sync-tags runs sync bodies only, not ${body}`)
      const tasks = new Array<Task.Task<number, never, never, "Node", "Node">>(size)
      for (let i = 0; i < size; i++) {
        const requires = deps[i]!.map((j) => tags[j]!)
        tasks[i] = Task.sync(`task ${i}`, {
          provides: tags[i]!,
          requires,
          // reads what it was given, as a task that uses its inputs does
          run: (services) => {
            for (const tag of requires) Context.get(services, tag)
            return work(i)
          }
        })
      }
      const graph = TaskGraph.make("bench", tasks)
      const report = await Effect.runPromise(TaskGraph.run(graph))
      return [graph, report]
    }
    case "taskgraph-tags": {
      const tasks = new Array<Task.Task<number, never, never, "Node", "Node">>(size)
      for (let i = 0; i < size; i++) {
        tasks[i] = Task.make(`task ${i}`, {
          provides: tags[i]!,
          requires: deps[i]!.map((j) => tags[j]!),
          run: effectBody(i)
        })
      }
      const graph = TaskGraph.make("bench", tasks)
      const report = await Effect.runPromise(TaskGraph.run(graph))
      return [graph, report]
    }
    case "effect-floor":
    case "promise": {
      // in-degree counters; one bare Effect fiber per task (Runtime.runFork) or one Promise per task
      const waiting = new Int32Array(size)
      const dependents: Array<Array<number>> = Array.from({ length: size }, () => [])
      for (let i = 0; i < size; i++) {
        waiting[i] = deps[i]!.length
        for (const d of deps[i]!) dependents[d]!.push(i)
      }
      const values: Array<unknown> = new Array(size)
      const effects = runner === "effect-floor" ? Array.from({ length: size }, (_, i) => effectBody(i)) : []
      await new Promise<void>((resolve, reject) => {
        const ready: Array<number> = []
        let done = 0
        let draining = false
        const finished = (i: number, value: unknown) => {
          values[i] = value
          if (++done === size) return resolve()
          for (const j of dependents[i]!) if (--waiting[j] === 0) ready.push(j)
          drain()
        }
        // a queue, not recursion: a chain of synchronous fibers would otherwise nest 100k deep
        const drain = () => {
          if (draining) return
          draining = true
          while (ready.length > 0) {
            const i = ready.pop()!
            if (runner === "promise") {
              jsBody(i).then((v) => finished(i, v), reject)
            } else {
              Runtime.runFork(Runtime.defaultRuntime, effects[i]!).addObserver((exit) =>
                exit._tag === "Failure" ? reject(new Error("task failed")) : finished(i, exit.value)
              )
            }
          }
          draining = false
        }
        for (let i = 0; i < size; i++) if (waiting[i] === 0) ready.push(i)
        drain()
      })
      return values
    }
    case "p-graph": {
      const nodes = new Map<string, { run: () => Promise<unknown> }>()
      const edges: Array<[string, string]> = []
      for (let i = 0; i < size; i++) {
        nodes.set(String(i), { run: () => jsBody(i) })
        for (const d of deps[i]!) edges.push([String(d), String(i)])
      }
      const graph = new PGraph(nodes, edges)
      await graph.run()
      return graph
    }
  }
}

const main = async () => {
  const before = mode === "mem" ? heap() : 0
  const t0 = performance.now()
  const tags = runner === "taskgraph-tags" || runner === "taskgraph-sync-tags"
    ? Array.from({ length: deps.length }, (_, i) => Context.GenericTag<"Node", number>(`node ${i}`))
    : []
  const t1 = performance.now()
  const beforeRun = mode === "mem" ? heap() : 0
  const cpu0 = process.cpuUsage()
  const t2 = performance.now()
  const held = await runOnce(tags)
  const t3 = performance.now()
  const cpu = process.cpuUsage(cpu0)
  const ms = t3 - t2
  // cpuMs: CPU time of the process over the same span (all its threads: V8's compiler and GC helpers
  // too) — less disturbed than wall time when other processes take the cores
  const cpuMs = (cpu.user + cpu.system) / 1000
  const result: Record<string, number> = {
    ms,
    usPerTask: (ms * 1000) / deps.length,
    cpuMs,
    cpuUsPerTask: (cpuMs * 1000) / deps.length,
    tagsMs: t1 - t0
  }
  if (mode === "mem") {
    // what the graph, its run and its report still hold per task after the run (the tags excluded)
    result.kbPerTask = (heap() - beforeRun) / 1024 / deps.length
    result.tagsKbPerTask = (beforeRun - before) / 1024 / deps.length
  }
  if (body === "sleep") {
    const critical = criticalPath(deps, durations)
    result.criticalMs = critical
    result.ratio = ms / critical
  }
  void held
  console.log(JSON.stringify(result))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
