/**
 * One measurement, in a fresh process (bench/run.ts spawns it):
 *   node --expose-gc bench/.build/measure.mjs <kind> <runner> <shape> <n>
 * Prints one JSON line.
 */
import { Deferred, Effect, Fiber, Ref } from "effect"
import { Task, TaskGraph } from "effect-taskgraph"
import { buildTaskGraph, prepare, type Runner } from "./runners.js"
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
    case "noop": {
      const deps = workload(shape, n)
      // memory first, in the clean process: what a graph, its run and its report hold per task (after GC)
      const before = heap()
      const first = prepare(runner, deps, { kind: "noop" })
      const c0 = performance.now()
      const firstResult = await first()
      const coldMs = performance.now() - c0
      const after = heap()
      void firstResult
      void first
      // Steady state: after warm-up runs (V8 needs a few to optimise the fiber runtime's code), the
      // mean of several consecutive runs, each on a freshly built graph (so validation is included and
      // the building is not). No forced GC between them: a full GC also empties V8's megamorphic
      // stub cache, which made the run right after it ~2x slower for Effect's megamorphic code (see
      // bench/README.md); the collections a run's own garbage causes are counted, amortised.
      const warmups = Number(process.env.WARMUPS ?? (n >= 100_000 ? 2 : 4))
      for (let k = 0; k < warmups; k++) await prepare(runner, deps, { kind: "noop" })()
      const timedRuns = n >= 100_000 ? 3 : 10
      let ms = 0
      for (let k = 0; k < timedRuns; k++) {
        const run = prepare(runner, deps, { kind: "noop" })
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
      // warm up (JIT, module init) on the same shape, so the makespan measures scheduling only
      await prepare(runner, workload(shape, 2000), { kind: "noop" })()
      await prepare(runner, workload(shape, 200), { kind: "sleep", ms: sleeps(200).map(() => 0) })()
      const run = prepare(runner, deps, { kind: "sleep", ms: durations })
      const t0 = performance.now()
      await run()
      const ms = performance.now() - t0
      const critical = criticalPath(deps, durations)
      return { makespanMs: ms, criticalMs: critical, ratio: ms / critical }
    }
    case "build": {
      const deps = workload(shape, n)
      const t0 = performance.now()
      const graph = buildTaskGraph(deps, { kind: "noop" })
      const t1 = performance.now()
      await Effect.runPromise(TaskGraph.validate(graph))
      const t2 = performance.now()
      return { buildMs: t1 - t0, validateMs: t2 - t1, totalMs: t2 - t0 }
    }
    case "interrupt": {
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
