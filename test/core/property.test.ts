/**
 * Property test over random DAGs with random delays and failures: the
 * scheduling and resource invariants hold whatever the graph.
 */
import { describe, expect, it } from "vitest"
import { Context, Effect, FastCheck, Fiber, Ref, TestClock, TestContext } from "effect"
import { Task, TaskGraph } from "../../src/index.js"

interface TaskSpec {
  readonly deps: ReadonlyArray<number>
  readonly after: ReadonlyArray<number>
  readonly delay: number
  readonly fails: boolean
  /** a watcher that fails this many seconds after the run started, if the task still holds it then */
  readonly crashAfter: number | null
}
interface GraphSpec {
  readonly tasks: ReadonlyArray<TaskSpec>
  readonly concurrency: number | "unbounded"
  readonly mode: "fail-fast" | "continue"
}

const graphSpec: FastCheck.Arbitrary<GraphSpec> = FastCheck.integer({ min: 1, max: 14 }).chain((n) =>
  FastCheck.record({
    tasks: FastCheck.tuple(
      ...Array.from({ length: n }, (_, i) =>
        FastCheck.record({
          deps: FastCheck.uniqueArray(FastCheck.integer({ min: 0, max: Math.max(0, i - 1) }), { maxLength: i === 0 ? 0 : 3 }),
          after: FastCheck.uniqueArray(FastCheck.integer({ min: 0, max: Math.max(0, i - 1) }), { maxLength: i === 0 ? 0 : 1 }),
          delay: FastCheck.integer({ min: 0, max: 3 }),
          // about 15 % of tasks fail, drawn by fast-check itself so that shrinking and replay reproduce it
          fails: FastCheck.integer({ min: 0, max: 19 }).map((k) => k < 3),
          crashAfter: FastCheck.option(FastCheck.integer({ min: 1, max: 5 }), { freq: 6 })
        }))
    ),
    concurrency: FastCheck.oneof(FastCheck.constant("unbounded" as const), FastCheck.integer({ min: 1, max: 4 })),
    mode: FastCheck.constantFrom("fail-fast" as const, "continue" as const)
  })
)

type Entry =
  | { readonly kind: "start" | "ready" | "fail" | "acquire" | "release"; readonly task: number; readonly at: number }

const check = (spec: GraphSpec) =>
  Effect.gen(function*() {
    const journal = yield* Ref.make<Array<Entry>>([])
    const running = yield* Ref.make(0)
    const peak = yield* Ref.make(0)
    const note = (kind: Entry["kind"], task: number) =>
      Effect.flatMap(Effect.clockWith((c) => c.currentTimeMillis), (at) =>
        Ref.update(journal, (j) => [...j, { kind, task, at }]))
    const tags = spec.tasks.map((_, i) => Context.GenericTag<`T${number}`, number>(`T${i}`))
    const tasks: Array<Task.Task<number, string, never, `T${number}`, `T${number}`>> = []
    spec.tasks.forEach((t, i) => {
      tasks.push(Task.make(`t${i}`, {
        provides: tags[i]!,
        requires: t.deps.map((d) => tags[d]!),
        after: t.after.map((a) => tasks[a]!),
        run: Effect.gen(function*() {
          const now = yield* Ref.updateAndGet(running, (r) => r + 1)
          yield* Ref.update(peak, (p) => Math.max(p, now))
          yield* note("start", i)
          yield* Effect.acquireRelease(note("acquire", i), () => note("release", i))
          if (t.crashAfter !== null) {
            yield* Task.watch(Effect.zipRight(Effect.sleep(`${t.crashAfter} seconds`), Effect.fail(`t${i} crashed`)))
          }
          yield* Effect.sleep(`${t.delay} seconds`).pipe(Effect.ensuring(Ref.update(running, (r) => r - 1)))
          if (t.fails) return yield* Effect.fail(`t${i} failed`)
          yield* note("ready", i)
          return i
        })
      }))
    })
    const graph = TaskGraph.make("random", tasks)
    const fiber = yield* Effect.fork(Effect.either(TaskGraph.run(graph, { concurrency: spec.concurrency, mode: spec.mode })))
    for (let k = 0; k < 200 && fiber.unsafePoll() === null; k++) yield* TestClock.adjust("1 second")
    const result = yield* Fiber.join(fiber)
    const entries = yield* Ref.get(journal)
    const first = (kind: Entry["kind"], task: number) => entries.findIndex((e) => e.kind === kind && e.task === task)
    const count = (kind: Entry["kind"], task: number) => entries.filter((e) => e.kind === kind && e.task === task).length

    const anyFails = spec.tasks.some((t) => t.fails)
    const mayCrash = spec.tasks.some((t) => t.crashAfter !== null)
    if (anyFails) expect(result._tag).toBe("Left")
    else if (!mayCrash) expect(result._tag).toBe("Right")
    if (spec.concurrency !== "unbounded") expect(yield* Ref.get(peak)).toBeLessThanOrEqual(spec.concurrency)
    spec.tasks.forEach((t, i) => {
      // ran at most once, and only after everything it waits for was ready
      expect(count("start", i)).toBeLessThanOrEqual(1)
      const started = first("start", i)
      if (started >= 0) {
        for (const d of [...t.deps, ...t.after]) {
          const ready = first("ready", d)
          expect(ready).toBeGreaterThanOrEqual(0)
          expect(ready).toBeLessThan(started)
        }
      }
      // everything acquired is released exactly once
      expect(count("release", i)).toBe(count("acquire", i))
      // a dependent is released before its dependency
      for (const d of t.deps) {
        if (count("acquire", i) === 1) expect(first("release", i)).toBeLessThan(first("release", d))
      }
    })
    if (result._tag === "Right") expect(entries.filter((e) => e.kind === "ready").length).toBe(spec.tasks.length)
    if (result._tag === "Left" && result.left._tag === "RunFailedError") {
      const report = result.left.report
      report.tasks.forEach((t, i) => {
        if (t.status === "skipped") expect(count("start", i)).toBe(0)
        if (spec.mode === "continue" && t.status === "skipped") {
          // in continue mode only what (transitively) waits for a failed task is skipped
          expect(t.blockedBy._tag).toBe("Some")
        }
        if (spec.mode === "continue") expect(t.stoppedBy._tag).toBe("None")
        // a task blocked by a failure waits for it (through others perhaps); one stopped by it does not
        const waitsFor = (j: number): boolean => {
          const direct = [...spec.tasks[j]!.deps, ...spec.tasks[j]!.after]
          return direct.some((d) => `t${d}` === failedName || waitsFor(d))
        }
        let failedName: string | undefined
        if (t.blockedBy._tag === "Some") {
          expect(t.stoppedBy._tag).toBe("None")
          failedName = t.blockedBy.value
          expect(waitsFor(i)).toBe(true)
        }
        if (t.stoppedBy._tag === "Some") {
          failedName = t.stoppedBy.value
          expect(waitsFor(i)).toBe(false)
        }
        if (t.status === "skipped" && !mayCrash) expect(t.blockedBy._tag === "Some" || t.stoppedBy._tag === "Some").toBe(true)
      })
    }
  })

describe("property: random DAGs with random delays and failures", () => {
  it("keeps every scheduling and resource invariant", async () => {
    await FastCheck.assert(
      FastCheck.asyncProperty(graphSpec, (spec) => Effect.runPromise(check(spec).pipe(Effect.provide(TestContext.TestContext)))),
      { numRuns: 150 }
    )
  }, 60_000)
})
