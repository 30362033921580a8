/**
 * One measurement, in a fresh process (bench/run.ts spawns it):
 *   node --expose-gc bench/.build/measure.mjs <kind> <runner> <shape> <n>
 * Prints one JSON line.
 */
import { writeFileSync } from "node:fs"
import { Deferred, Effect, Fiber, Ref, Runtime } from "effect"
import { Task, TaskGraph } from "effect-taskgraph"
import { buildTaskGraph, makeTags, prepare, type Runner } from "./runners.js"
import { criticalPath, type Shape, sleeps, workload } from "./workloads.js"

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const heap = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const [kind, runner, shape, nText] = process.argv.slice(2) as [string, Runner, Shape, string]
const n = Number(nText)

const main = async () => {
  switch (kind) {
    case "noop":
    case "sync": {
      const body = { kind } as const
      const deps = workload(shape, n)
      // memory first, in the clean process: what a graph, its run and its report hold per task (after GC)
      const before = heap()
      const first = prepare(runner, deps, body)
      const c0 = performance.now()
      const firstResult = await first()
      const coldMs = performance.now() - c0
      const after = heap()
      void firstResult
      void first
      // Steady state: after warm-up runs (V8 needs a few to optimise the fiber runtime's code), the
      // mean of several consecutive runs, each on a freshly built graph (so validation is included and
      // the building is not). No forced GC between them: the run right after a forced full GC was
      // ~2x slower for Effect's code (likely V8's megamorphic stub cache being emptied, see
      // bench/README.md); the collections a run's own garbage causes are counted, amortised.
      const warmups = n >= 100_000 ? 2 : 4
      for (let k = 0; k < warmups; k++) await prepare(runner, deps, body)()
      const timedRuns = n >= 100_000 ? 3 : 10
      let ms = 0
      for (let k = 0; k < timedRuns; k++) {
        const run = prepare(runner, deps, body)
        const t0 = performance.now()
        await run()
        ms += performance.now() - t0
      }
      ms /= timedRuns
      return { usPerTask: (ms * 1000) / n, coldUsPerTask: (coldMs * 1000) / n, kbPerTask: (after - before) / 1024 / n, ms }
    }
    case "sleep": {
      const deps = workload(shape, n)
      const durations = sleeps(n)
      // Warm up (JIT, module init) so that the makespan measures scheduling, not compilation: the sync
      // path on the same shape, and the async path (start, sleep, resume) on 5 x 1,000 tasks that
      // sleep 0 ms side by side. The same for every runner; no forced GC before the timed run.
      await prepare(runner, workload(shape, 2000), { kind: "noop" })()
      const zero = sleeps(1000).map(() => 0)
      for (let k = 0; k < 5; k++) await prepare(runner, workload("fanout", 1000), { kind: "sleep", ms: zero })()
      const run = prepare(runner, deps, { kind: "sleep", ms: durations })
      const t0 = performance.now()
      await run()
      const ms = performance.now() - t0
      const critical = criticalPath(deps, durations)
      return { makespanMs: ms, criticalMs: critical, ratio: ms / critical }
    }
    case "workload": {
      // for the asyncio runner (bench/asyncio_runner.py): the same graph and sleeps, as JSON
      const deps = workload(shape, n)
      const durations = sleeps(n)
      const path = `bench/.build/workload-${shape}-${n}.json`
      writeFileSync(path, JSON.stringify({ deps, sleeps: durations }))
      return { path, criticalMs: criticalPath(deps, durations) }
    }
    case "build": {
      // tags are the user's type definitions (Effect's cost); tasks + graph + validation are ours
      const deps = workload(shape, n)
      const t0 = performance.now()
      const tags = makeTags(n)
      const t1 = performance.now()
      const graph = buildTaskGraph(deps, { kind: "noop" }, tags)
      const t2 = performance.now()
      await Effect.runPromise(TaskGraph.validate(graph))
      const t3 = performance.now()
      return { tagsMs: t1 - t0, buildMs: t2 - t1, validateMs: t3 - t2, totalMs: t3 - t1 }
    }
    case "interrupt": {
      if (runner === "effect-floor") {
        // the same, as n bare Effect fibers (Effect.scoped + acquireRelease + never, Runtime.runFork),
        // interrupted at once and observed without awaiting: what Effect itself needs for this
        let released = 0
        let started = 0
        const body = Effect.scoped(
          Effect.acquireRelease(Effect.sync(() => started++), () => Effect.sync(() => released++)).pipe(
            Effect.zipRight(Effect.never)
          )
        )
        const fibers = Array.from({ length: n }, () => Runtime.runFork(Runtime.defaultRuntime, body))
        if (started !== n) throw new Error("not every fiber started")
        const t0 = performance.now()
        await new Promise<void>((resolve) => {
          let left = n
          for (const fiber of fibers) {
            fiber.addObserver(() => --left === 0 && resolve())
            fiber.unsafeInterruptAsFork(fiber.id())
          }
        })
        return { interruptMs: performance.now() - t0, released, inFlight: n }
      }
      // n tasks all in flight, each holding a resource; interrupt the run and time the way back
      const program = Effect.gen(function*() {
        const started = yield* Ref.make(0)
        const released = yield* Ref.make(0)
        const allStarted = yield* Deferred.make<void>()
        const tasks = Array.from({ length: n }, (_, i) =>
          Task.make(`t${i}`, {
            run: Effect.acquireRelease(
              Ref.updateAndGet(started, (k) => k + 1).pipe(
                Effect.tap((k) => (k === n ? Deferred.succeed(allStarted, undefined) : Effect.void))
              ),
              () => Ref.update(released, (k) => k + 1)
            ).pipe(Effect.zipRight(Effect.never))
          }))
        const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("in flight", tasks)))
        yield* Deferred.await(allStarted)
        const t0 = performance.now()
        yield* Fiber.interrupt(fiber)
        const ms = performance.now() - t0
        return { interruptMs: ms, released: yield* Ref.get(released), inFlight: n }
      })
      return Effect.runPromise(program)
    }
  }
  throw new Error(`unknown kind ${kind}`)
}

main().then((result) => console.log(JSON.stringify(result)), (error) => {
  console.error(error)
  process.exit(1)
})
