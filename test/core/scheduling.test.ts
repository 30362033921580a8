import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Option, Ref, TestClock } from "effect"
import { RunReport, Task, TaskGraph } from "../../src/index.js"

class A extends Context.Tag("A")<A, number>() {}
class B extends Context.Tag("B")<B, number>() {}
class C extends Context.Tag("C")<C, number>() {}

const sleepy = (name: string, seconds: number) => Task.make(name, { run: Effect.sleep(`${seconds} seconds`) })

describe("scheduling", () => {
  it.effect("a diamond whose middle tasks take 10 s each finishes in 20 s of virtual time, not 30", () =>
    Effect.gen(function*() {
      const a = Task.make("a", { provides: A, run: Effect.succeed(1) })
      const b = Task.make("b", {
        requires: [A],
        provides: B,
        run: Effect.map(A, (x) => x + 1).pipe(Effect.delay("10 seconds"))
      })
      const c = Task.make("c", {
        requires: [A],
        provides: C,
        run: Effect.map(A, (x) => x + 2).pipe(Effect.delay("10 seconds"))
      })
      const d = Task.make("d", {
        requires: [B, C],
        run: Effect.gen(function*() {
          return (yield* B) * (yield* C)
        }).pipe(Effect.delay("10 seconds"))
      })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("diamond", [d, c, b, a])))
      yield* TestClock.adjust("19999 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const report = yield* Fiber.join(fiber)
      expect(report.status).toBe("succeeded")
      expect(report.durationMs).toEqual(Option.some(20_000))
      expect(RunReport.value(report, "d")).toEqual(Option.some(6))
      expect(report.tasks.map((t) => t.status)).toEqual(["released", "released", "released", "released"])
      // b and c started together, as soon as a was ready
      const started = (name: string) => Option.getOrThrow(Option.flatMap(RunReport.task(report, name), (t) => t.startedAt))
      expect(started("b")).toBe(started("c"))
      expect(started("d") - started("b")).toBe(10_000)
    }))

  it.effect("a task starts as soon as its own dependencies are ready, not when a whole layer is", () =>
    Effect.gen(function*() {
      const slow = sleepy("slow", 30)
      const fast = Task.make("fast", { provides: A, run: Effect.as(Effect.sleep("1 second"), 1) })
      const afterFast = Task.make("after fast", { requires: [A], run: Effect.sleep("1 second") })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [slow, fast, afterFast])))
      yield* TestClock.adjust("30 seconds")
      const report = yield* Fiber.join(fiber)
      const t = Option.getOrThrow(RunReport.task(report, "after fast"))
      expect(Option.getOrThrow(t.startedAt) - report.startedAt).toBe(1000)
      expect(Option.getOrThrow(t.readyAt) - report.startedAt).toBe(2000)
    }))

  it.effect("`after` and TaskGraph.precedence order tasks that share no data", () =>
    Effect.gen(function*() {
      const order = yield* Ref.make<Array<string>>([])
      const step = (name: string, after: ReadonlyArray<Task.Task.Any> = []) =>
        Task.make(name, {
          after,
          run: Effect.sleep("1 second").pipe(Effect.zipRight(Ref.update(order, (o) => [...o, name])))
        })
      const one = step("one")
      const two = step("two", [one])
      const three = step("three")
      const four = step("four")
      const graph = TaskGraph.make("g", [four, three, two, one]).pipe(TaskGraph.precedence(two, three, four))
      const fiber = yield* Effect.fork(TaskGraph.run(graph))
      yield* TestClock.adjust("4 seconds")
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(order)).toEqual(["one", "two", "three", "four"])
      // data-first form too
      const same = TaskGraph.precedence(TaskGraph.make("g", [one, two]), two, one)
      expect(same.precedences.map(([a, b]) => `${a.name}<${b.name}`)).toEqual(["two<one"])
    }))

  it.effect("concurrency bounds the tasks in their run phase", () =>
    Effect.gen(function*() {
      const running = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      const tasks = Array.from({ length: 10 }, (_, i) =>
        Task.make(`t${i}`, {
          run: Effect.acquireUseRelease(
            Ref.updateAndGet(running, (n) => n + 1).pipe(Effect.tap((n) => Ref.update(peak, (p) => Math.max(p, n)))),
            () => Effect.sleep("1 second"),
            () => Ref.update(running, (n) => n - 1)
          )
        }))
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", tasks), { concurrency: 3 }))
      yield* TestClock.adjust("4 seconds")
      const report = yield* Fiber.join(fiber)
      expect(yield* Ref.get(peak)).toBe(3)
      expect(report.durationMs).toEqual(Option.some(4000))
    }))

  it.effect("a pool is held until the task is released: at most two VMs exist at once", () =>
    Effect.gen(function*() {
      const alive = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      const pipelines = Array.from({ length: 3 }, (_, i) => {
        class Vm extends Context.Tag(`Vm${i}`)<Vm, number>() {}
        const vm = Task.make(`vm ${i}`, {
          provides: Vm,
          pools: { vm: 1 },
          run: Effect.acquireRelease(
            Ref.updateAndGet(alive, (n) => n + 1).pipe(Effect.tap((n) => Ref.update(peak, (p) => Math.max(p, n)))),
            () => Ref.update(alive, (n) => n - 1)
          )
        })
        const tests = Task.make(`tests ${i}`, { requires: [Vm], run: Effect.sleep("5 seconds") })
        return [vm, tests] as const
      })
      const graph = TaskGraph.make("vms", pipelines.flat())
      const fiber = yield* Effect.fork(TaskGraph.run(graph, { pools: { vm: 2 } }))
      yield* TestClock.adjust("10 seconds")
      const report = yield* Fiber.join(fiber)
      expect(report.status).toBe("succeeded")
      expect(yield* Ref.get(peak)).toBe(2)
      expect(yield* Ref.get(alive)).toBe(0)
      expect(report.durationMs).toEqual(Option.some(10_000))
    }))

  it.effect("each task sees the services it declared plus the ambient context", () =>
    Effect.gen(function*() {
      class Ambient extends Context.Tag("Ambient")<Ambient, string>() {}
      const a = Task.make("a", { provides: A, run: Effect.succeed(7) })
      const b = Task.make("b", {
        requires: [A],
        run: Effect.gen(function*() {
          return `${yield* Ambient}:${yield* A}`
        })
      })
      const report = yield* TaskGraph.run(TaskGraph.make("g", [a, b])).pipe(Effect.provideService(Ambient, "env"))
      expect(RunReport.value(report, "b")).toEqual(Option.some("env:7"))
    }))

  it.effect("a required tag no task provides comes from the context", () =>
    Effect.gen(function*() {
      const b = Task.make("b", { requires: [A], run: Effect.map(A, (a) => a * 2) })
      const graph = TaskGraph.make("g", [b])
      const report = yield* TaskGraph.run(graph).pipe(Effect.provideService(A, 21))
      expect(RunReport.value(report, "b")).toEqual(Option.some(42))
    }))

  it.effect("an empty graph succeeds at once", () =>
    Effect.gen(function*() {
      const report = yield* TaskGraph.run(TaskGraph.make("empty", []))
      expect(report.status).toBe("succeeded")
      expect(report.tasks).toEqual([])
    }))

  it.effect("a chain of 20,000 synchronous tasks runs without blowing the stack", () =>
    Effect.gen(function*() {
      const tags = Array.from({ length: 20_000 }, (_, i) => Context.GenericTag<`n${number}`, number>(`n${i}`))
      const tasks = tags.map((tag, i) =>
        Task.make(`t${i}`, {
          provides: tag,
          requires: i === 0 ? [] : [tags[i - 1]!],
          run: i === 0 ? Effect.succeed(0) : Effect.map(tags[i - 1]!, (x) => x + 1)
        })
      )
      const report = yield* TaskGraph.run(TaskGraph.make("chain", tasks), { spans: false })
      expect(RunReport.value(report, "t19999")).toEqual(Option.some(19_999))
      expect(report.tasks.every((t) => t.status === "released")).toBe(true)
    }))

  it.effect("when fewer tasks may run than are ready, the one with the longest chain ahead starts first", () =>
    Effect.gen(function*() {
      // listed first, but nothing waits for them
      const side1 = sleepy("side 1", 1)
      const side2 = sleepy("side 2", 1)
      // the chain that sets the run's length
      const head = sleepy("head", 1)
      const tail = Task.make("tail", { after: [head], run: Effect.sleep("5 seconds") })
      const graph = TaskGraph.make("critical first", [side1, side2, head, tail])
      const fiber = yield* Effect.fork(TaskGraph.run(graph, { concurrency: 2 }))
      yield* TestClock.adjust("7 seconds")
      const report = yield* Fiber.join(fiber)
      // head with side 1 at 0 s; tail with side 2 at 1 s; done at 6 s (starting both sides first: 7 s)
      const startedAt = (name: string) => report.tasks.find((t) => t.name === name)!.startedAt
      expect([startedAt("head"), startedAt("side 1"), startedAt("tail"), startedAt("side 2")]).toEqual(
        [Option.some(0), Option.some(0), Option.some(1000), Option.some(1000)]
      )
      expect(report.durationMs).toEqual(Option.some(6000))
    }))

  it.effect("a task that does not fit its pool does not hold back a lower one that fits", () =>
    Effect.gen(function*() {
      const x = Task.make("x", { pools: { vm: 1 }, run: Effect.sleep("10 seconds") })
      const afterX = Task.make("after x", { after: [x], run: Effect.void })
      const big = Task.make("big", { pools: { vm: 2 }, run: Effect.sleep("1 second") })
      const afterBig = Task.make("after big", { after: [big], run: Effect.void })
      const small = Task.make("small", { pools: { vm: 1 }, run: Effect.sleep("1 second") })
      const graph = TaskGraph.make("pools", [x, afterX, big, afterBig, small])
      const fiber = yield* Effect.fork(TaskGraph.run(graph, { pools: { vm: 2 } }))
      yield* TestClock.adjust("12 seconds")
      const report = yield* Fiber.join(fiber)
      const startedAt = (name: string) => report.tasks.find((t) => t.name === name)!.startedAt
      // x (longest chain, listed first) takes one unit; big needs both and waits; small fits and goes
      expect([startedAt("x"), startedAt("small"), startedAt("big")]).toEqual(
        [Option.some(0), Option.some(0), Option.some(10_000)]
      )
      expect(report.durationMs).toEqual(Option.some(11_000))
    }))
})
