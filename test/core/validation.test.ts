import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Ref, Schedule } from "effect"
import { GraphError, Task, TaskError, TaskGraph } from "../../src/index.js"

class A extends Context.Tag("A")<A, number>() {}
class B extends Context.Tag("B")<B, number>() {}

/** Every error must be raised before any task starts. */
const rejects = <E, R, P>(graph: TaskGraph.TaskGraph<E, R, P>, options?: TaskGraph.RunOptions) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(TaskGraph.run(graph, options) as Effect.Effect<unknown, TaskGraph.TaskGraphError<E>>)
    if (error._tag === "RunFailedError") throw new Error("expected a validation error, got a failed run")
    return error
  })

const noop = (name: string, options: { after?: ReadonlyArray<Task.Task.Any> } = {}) =>
  Task.make(name, { ...options, run: Effect.void })

describe("validation: bad input gets a clear error before anything runs", () => {
  it.effect("a cycle is reported as a path, data and precedence edges alike", () =>
    Effect.gen(function*() {
      const started = yield* Ref.make(0)
      const a = Task.make("a", { requires: [B], provides: A, run: Effect.as(Ref.update(started, (n) => n + 1), 1) })
      const b = Task.make("b", { requires: [A], provides: B, run: Effect.as(Ref.update(started, (n) => n + 1), 2) })
      const error = yield* rejects(TaskGraph.make("g", [a, b]))
      expect(error._tag).toBe("CycleError")
      expect(error.message).toMatch(/cycle in the task graph: (a -> b -> a|b -> a -> b)/)
      expect(yield* Ref.get(started)).toBe(0)

      const x = noop("x")
      const y = noop("y", { after: [x] })
      const z = noop("z", { after: [y] })
      const mixed = yield* rejects(TaskGraph.make("g", [x, y, z]).pipe(TaskGraph.precedence(z, x)))
      expect(mixed).toEqual(new GraphError.CycleError({ path: ["x", "y", "z", "x"] }))
    }))

  it.effect("a task that requires itself", () =>
    Effect.gen(function*() {
      const a = Task.make("a", { requires: [A], provides: A, run: Effect.succeed(1) })
      // the compiler rejects this graph too (a task using what it provides); the runtime check is the safety net
      const error = yield* rejects(TaskGraph.make("g", [a] as ReadonlyArray<Task.Task.Any>))
      expect(error.message).toBe(`task "a" both provides and requires "A"; a task cannot depend on itself.`)
      const self: Task.Task.Any = noop("s")
      ;(self as { after: ReadonlyArray<Task.Task.Any> }).after = [self]
      expect((yield* rejects(TaskGraph.make("g", [self])))._tag).toBe("SelfDependencyError")
    }))

  it.effect("a required tag with no provider in the graph or the context names the tag and who needs it", () =>
    Effect.gen(function*() {
      const user = Task.make("run tests", { requires: [A], run: Effect.void })
      const error = yield* rejects(TaskGraph.make("g", [user]))
      expect(error).toEqual(new GraphError.MissingProviderError({ tag: "A", requiredBy: ["run tests"] }))
      expect(error.message).toContain(`no provider for "A", required by "run tests"`)
      // validate lists it as external instead: the context is only known when running
      const plan = yield* TaskGraph.validate(TaskGraph.make("g", [user]))
      expect(plan.external).toEqual([{ tag: "A", requiredBy: ["run tests"] }])
    }))

  it.effect("two providers of one tag are both named", () =>
    Effect.gen(function*() {
      const a1 = Task.make("vm a", { provides: A, run: Effect.succeed(1) })
      const a2 = Task.make("vm b", { provides: A, run: Effect.succeed(2) })
      const error = yield* rejects(TaskGraph.make("g", [a1, a2]))
      expect(error).toEqual(new GraphError.DuplicateProviderError({ tag: "A", providers: ["vm a", "vm b"] }))
    }))

  it.effect("two tasks with one name", () =>
    Effect.gen(function*() {
      const error = yield* rejects(TaskGraph.make("g", [noop("build"), noop("build")]))
      expect(error).toEqual(new GraphError.DuplicateTaskError({ task: "build" }))
    }))

  it.effect("one task listed twice is said as such, not as two tasks with one name", () =>
    Effect.gen(function*() {
      const build = noop("build")
      const error = yield* rejects(TaskGraph.make("g", [build, noop("lint"), build]))
      expect(error).toEqual(new GraphError.DuplicateTaskError({ task: "build", listedTwice: true }))
      expect(error.message).toBe(`task "build" is listed twice in the graph; list each task once.`)
    }))

  it.effect("a precedence of a task before itself names the precedence, not `after`", () =>
    Effect.gen(function*() {
      const p = noop("p")
      const error = yield* rejects(TaskGraph.make("g", [p]).pipe(TaskGraph.precedence(p, p)))
      expect(error).toEqual(new GraphError.SelfDependencyError({ task: "p", via: "precedence" }))
      expect(error.message).toBe(`a precedence puts task "p" before itself; remove it.`)
    }))

  it.effect("an unknown mode, and a concurrency given as a string (from JavaScript or a cast)", () =>
    Effect.gen(function*() {
      const graph = TaskGraph.make("g", [noop("a")])
      const mode = yield* rejects(graph, { mode: "contine" as "continue" })
      expect(mode.message).toBe(`invalid mode: must be "fail-fast" (the default) or "continue", got "contine"`)
      const concurrency = yield* rejects(graph, { concurrency: "4" as unknown as number })
      expect(concurrency.message).toBe(`invalid concurrency: must be a positive integer or "unbounded", got "4"`)
    }))

  it.effect("a precedence or `after` naming a task not in the graph", () =>
    Effect.gen(function*() {
      const lint = noop("lint")
      const test = noop("test", { after: [lint] })
      const viaAfter = yield* rejects(TaskGraph.make("g", [test]))
      expect(viaAfter).toEqual(new GraphError.UnknownTaskError({ task: "lint", referencedBy: "test", via: "after" }))
      expect(viaAfter.message).toContain("add it to TaskGraph.make")
      const other = noop("other")
      const viaPrecedence = yield* rejects(TaskGraph.make("g", [lint]).pipe(TaskGraph.precedence(lint, other)))
      expect(viaPrecedence).toEqual(
        new GraphError.UnknownTaskError({ task: "other", referencedBy: "lint before other", via: "precedence" })
      )
    }))

  it.effect("a task of another graph is unknown, whatever index it had there; one shared by two graphs is found in each", () =>
    Effect.gen(function*() {
      // validation notes each task's index on the task: a note from another graph must not be trusted
      const lint = noop("lint")
      const build = noop("build")
      expect((yield* TaskGraph.validate(TaskGraph.make("first", [lint, build]))).tasks).toEqual(["lint", "build"])
      const test = noop("test", { after: [lint] })
      // `test` sits at index 0, where `lint` sat in "first"; a different task named "lint" is at index 1
      const impostor = noop("lint")
      const error = yield* rejects(TaskGraph.make("second", [test, impostor]))
      expect(error).toEqual(new GraphError.UnknownTaskError({ task: "lint", referencedBy: "test", via: "after", sameName: true }))
      // the message says why a task of that name does not count
      expect(error.message).toContain(`the graph holds another task named "lint" (tasks are matched as values, not by name)`)
      const shared = noop("shared")
      const a = TaskGraph.make("a", [shared, noop("x", { after: [shared] })])
      const b = TaskGraph.make("b", [noop("y"), noop("z"), shared, noop("w", { after: [shared] })])
      expect((yield* TaskGraph.validate(a)).layers).toEqual([["shared"], ["x"]])
      expect((yield* TaskGraph.validate(b)).layers).toEqual([["y", "z", "shared"], ["w"]])
      // and again after b noted other indices on `shared`
      expect((yield* TaskGraph.validate(TaskGraph.make("a again", [shared, noop("x", { after: [shared] })]))).layers)
        .toEqual([["shared"], ["x"]])
    }))

  it.effect("a non-positive concurrency or pool size, an unsized pool, a weight larger than its pool", () =>
    Effect.gen(function*() {
      const graph = TaskGraph.make("g", [Task.make("vm", { pools: { vm: 2 }, run: Effect.void })])
      expect((yield* rejects(graph, { concurrency: 0, pools: { vm: 2 } })).message).toBe(
        `invalid concurrency: must be a positive integer or "unbounded", got 0`
      )
      expect((yield* rejects(graph, { pools: { vm: 0 } })).message).toContain(`size must be a positive integer, got 0`)
      expect((yield* rejects(graph)).message).toContain(`task "vm" uses it but the run gives it no size`)
      expect((yield* rejects(graph, { pools: { vm: 1 } })).message).toContain(`task "vm" needs 2 of it but its size is 1`)
      const bad = TaskGraph.make("g", [Task.make("vm", { pools: { vm: -1 }, run: Effect.void })])
      expect((yield* rejects(bad, { pools: { vm: 1 } }))._tag).toBe("InvalidOptionError")
    }))

  it.effect("validate returns the plan: topological layers, dependency and precedence edges", () =>
    Effect.gen(function*() {
      const a = Task.make("a", { provides: A, run: Effect.succeed(1) })
      const b = Task.make("b", { requires: [A], provides: B, run: Effect.succeed(2) })
      const c = Task.make("c", { requires: [A], run: Effect.void })
      const d = Task.make("d", { requires: [B], after: [c], run: Effect.void })
      const plan = yield* TaskGraph.validate(TaskGraph.make("g", [d, c, b, a]))
      expect(plan.layers).toEqual([["a"], ["c", "b"], ["d"]])
      expect(plan.dependencies).toEqual([
        { from: "b", to: "d", tag: "B" },
        { from: "a", to: "c", tag: "A" },
        { from: "a", to: "b", tag: "A" }
      ])
      expect(plan.precedences).toEqual([{ before: "c", after: "d" }])
    }))

  it("GraphError.isGraphError recognises every graph error by its type id, and nothing else", () => {
    const errors = [
      new GraphError.CycleError({ path: ["a", "b", "a"] }),
      new GraphError.SelfDependencyError({ task: "a", via: "after" }),
      new GraphError.MissingProviderError({ tag: "A", requiredBy: ["b"] }),
      new GraphError.DuplicateProviderError({ tag: "A", providers: ["a", "b"] }),
      new GraphError.DuplicateTaskError({ task: "a" }),
      new GraphError.UnknownTaskError({ task: "x", referencedBy: "a", via: "after" }),
      new GraphError.InvalidOptionError({ option: "concurrency", reason: "must be positive" })
    ]
    for (const error of errors) expect(GraphError.isGraphError(error)).toBe(true)
    expect(GraphError.isGraphError(new TaskError.TaskTimeoutError({ task: "a", timeout: "1s" }))).toBe(false)
    expect(GraphError.isGraphError({ _tag: "CycleError", path: [] })).toBe(false)
    expect(GraphError.isGraphError(null)).toBe(false)
    // the type id lives on the prototype: equality and JSON stay the data's own
    expect(Object.getOwnPropertySymbols(errors[4]!)).not.toContain(GraphError.TypeId)
  })
})

/**
 * What the types rule out, arriving anyway: a graph file in JavaScript (the CLI runs `.js`
 * graphs) or a cast. Each gets an InvalidOptionError that names the task and the field, before
 * anything runs, instead of a TypeError from inside the scheduler.
 */
describe("validation: malformed tasks from JavaScript or a cast", () => {
  // the casts stand for what a JavaScript caller can pass
  const loose = (options: Record<string, unknown>) => Task.make("x", options as unknown as { run: Effect.Effect<void> })
  const graphOf = (...tasks: ReadonlyArray<unknown>) => TaskGraph.make("g", tasks as ReadonlyArray<Task.Task.Any>)
  const cases: ReadonlyArray<readonly [string, () => TaskGraph.TaskGraph<unknown, never, unknown>, string]> = [
    ["no run", () => graphOf(loose({})), `invalid run of task "x": must be an Effect, got undefined`],
    [
      "a function as run",
      () => graphOf(loose({ run: () => 1 })),
      `invalid run of task "x": must be an Effect, got a function: pass the effect itself (e.g. Effect.sync(f) or Effect.promise(f)), not f`
    ],
    [
      "an empty name",
      () => graphOf(Task.make("", { run: Effect.void })),
      `invalid name of task #0: must be a non-empty string (it names the task in events, logs and reports), got an empty string`
    ],
    ["a number as name", () => graphOf(Task.make(7 as unknown as string, { run: Effect.void })), `invalid name of task #0: must be a non-empty string`],
    [
      "undefined in after",
      () => graphOf(loose({ after: [undefined], run: Effect.void })),
      `invalid after of task "x": item 0 is undefined, not a task: list tasks made with Task.make`
    ],
    [
      "a string in requires",
      () => graphOf(loose({ requires: ["Db"], run: Effect.void })),
      `invalid requires of task "x": the string "Db" is not a Context.Tag`
    ],
    ["a string as provides", () => graphOf(loose({ provides: "Db", run: Effect.void })), `invalid provides of task "x": the string "Db" is not a Context.Tag`],
    ["an object that is not a task", () => graphOf({ name: "x" }), `invalid task #0 of the graph: an object is not a task: make tasks with Task.make`],
    [
      "no array of tasks",
      () => TaskGraph.make("g", undefined as unknown as ReadonlyArray<Task.Task.Any>),
      `invalid tasks of graph "g": must be an array of tasks made with Task.make, got undefined`
    ],
    [
      "a misspelt timeout",
      () => graphOf(loose({ timeout: "10 minutez", run: Effect.void })),
      `invalid timeout of task "x": must be a duration ("10 seconds", Duration.minutes(2), a number of milliseconds), got the string "10 minutez"`
    ],
    ...([[-5, "number -5"], [Number.NaN, "number NaN"], [0, "number 0"], ["-1 seconds", `the string "-1 seconds"`]] as const).map((
      [timeout, shown]
    ) =>
      [
        `a timeout of ${shown}`,
        () => graphOf(Task.make("x", { timeout, run: Effect.void })),
        `invalid timeout of task "x": must be longer than zero, got ${shown}: leave it out for no timeout`
      ] as const
    ),
    ["a number as retry", () => graphOf(loose({ retry: 2, run: Effect.void })), `invalid retry of task "x": must be a Schedule (e.g. Schedule.recurs(2)), got number 2`],
    [
      "a precedence between non-tasks",
      () => graphOf(noop("a")).pipe(TaskGraph.precedence(undefined as unknown as Task.Task.Any, undefined as unknown as Task.Task.Any)),
      `invalid precedence of graph "g": both sides must be tasks made with Task.make, got undefined before undefined`
    ]
  ]
  for (const [name, make, message] of cases) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const error = yield* rejects(make())
        expect(error._tag).toBe("InvalidOptionError")
        expect(error.message.startsWith(message)).toBe(true)
        // and TaskGraph.validate says the same
        const validated = yield* Effect.flip(TaskGraph.validate(make()))
        expect(validated.message).toBe(error.message)
      }))
  }

  it.effect("a valid timeout in any Duration input and a Schedule as retry pass", () =>
    Effect.gen(function*() {
      const plan = yield* TaskGraph.validate(graphOf(
        Task.make("a", { timeout: "10 seconds", run: Effect.void }),
        Task.make("b", { timeout: 1500, run: Effect.void }),
        Task.make("c", { timeout: Duration.minutes(2), retry: Schedule.recurs(2), run: Effect.void })
      ))
      expect(plan.tasks).toEqual(["a", "b", "c"])
    }))
})
