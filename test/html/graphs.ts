/**
 * Graphs whose HTML reports the tests read: a successful run, a failed run
 * (mode continue: one failure, one task skipped), an interrupted one, and a
 * large one.
 */
import { Context, Deferred, Effect } from "effect"
import { Process, Task, TaskGraph } from "effect-taskgraph"

export class Source extends Context.Tag("Source")<Source, { readonly files: number }>() {}
export class Binary extends Context.Tag("Binary")<Binary, { readonly path: string }>() {}

const checkout = Task.make("checkout", {
  provides: Source,
  run: Effect.gen(function*() {
    yield* Task.output("cloning into work/")
    yield* Task.output("checked out 3 files")
    return { files: 3 }
  })
})

const compile = Task.make("compile", {
  requires: [Source],
  provides: Binary,
  run: Effect.gen(function*() {
    yield* Task.output("cc -c main.c")
    // markup, terminal escapes and invalid UTF-8 in a task's output: shown as text, never interpreted
    yield* Task.output(`<script>document.title = "pwned"</script><img src=x onerror="document.title='pwned'">`, "stderr")
    yield* Task.output("\x1b[31mred warning\x1b[0m and a bell\x07")
    yield* Process.run("sh", ["-c", "printf 'bad byte: \\377 end\\n'"])
    return { path: "build/app" }
    // its release takes a little while (a real cleanup would): the page draws the resources held from
    // ready to released, which on a fast machine could otherwise be the same millisecond
  }).pipe(Effect.acquireRelease(() => Effect.sleep("5 millis")))
})

const lint = Task.make("lint", { requires: [Source], run: Task.output("lint: 0 problems") })

/** checkout -> compile, lint; compile -> unit tests; package after lint and unit tests */
export const success = (failTests: boolean) => {
  const unitTests = Task.make("unit tests", {
    requires: [Binary],
    run: Effect.gen(function*() {
      yield* Task.output("ok 1 - parses")
      if (failTests) {
        yield* Task.output("not ok 2 - rounds halves up", "stderr")
        return yield* Effect.fail(new Error("expected 3, got 2"))
      }
      yield* Task.output("ok 2 - rounds halves up")
    })
  })
  const pkg = Task.make("package", { requires: [Binary], after: [unitTests, lint], run: Task.output("wrote app.tar.gz") })
  return TaskGraph.make(failTests ? "build (failing)" : "build", [checkout, compile, lint, unitTests, pkg])
}

/** A graph whose "run tests" task waits forever (after telling `started`): for an interruption. */
export const hanging = (started: Deferred.Deferred<void>) => {
  const boot = Task.make("boot vm", {
    run: Effect.zipRight(Task.output("vm: booted"), Effect.acquireRelease(Effect.void, () => Effect.void))
  })
  const tests = Task.make("run tests", {
    after: [boot],
    run: Effect.gen(function*() {
      yield* Task.output("SLOW-TEST-STARTED")
      yield* Deferred.succeed(started, undefined)
      return yield* Effect.never
    })
  })
  const report = Task.make("collect results", { after: [tests], run: Effect.void })
  return TaskGraph.make("interrupted run", [boot, tests, report])
}

/** n tasks in layers of `width`, each waiting for one task of the layer before; every task prints a line. */
export const large = (n: number, width = 50) => {
  const tasks: Array<Task.Task<void>> = []
  for (let i = 0; i < n; i++) {
    const before = i >= width ? [tasks[(Math.floor(i / width) - 1) * width + ((i * 7) % width)]!] : []
    tasks.push(Task.make(`task ${i}`, { after: before, run: Task.output(`line of task ${i}`) }))
  }
  return TaskGraph.make(`large ${n}`, tasks)
}

/** A tag no task of `nested` provides: the caller's context gives it. */
export class Registry extends Context.Tag("Registry")<Registry, { readonly url: string }>() {}

/**
 * checkout -> tests -> package, where "tests" runs one graph per shard inside
 * itself (`Task.forEach`: "build" then "run", both logging), the "e2e" shard
 * runs a graph of its own inside its "run" task, and "package" needs
 * `Registry` from the caller's context.
 */
export const nested = () => {
  const tests = Task.forEach("tests", ["unit", "e2e"], (shard) => {
    const build = Task.make("build", { requires: [Source], run: Effect.log(`building ${shard}`) })
    const run = shard === "e2e"
      ? Task.forEach("run", ["chromium"], (browser) => [Task.make("drive", { run: Task.output(`driving ${browser}`) })], {
        after: [build]
      })
      : Task.make("run", { after: [build], run: Effect.zipRight(Effect.log(`testing ${shard}`), Task.output(`${shard}: 3 passed`)) })
    return [build, run]
  }, { requires: [Source] })
  const pkg = Task.make("package", {
    requires: [Registry],
    after: [tests],
    run: Effect.flatMap(Registry, ({ url }) => Task.output(`pushed to ${url}`))
  })
  return TaskGraph.make("nested", [checkout, tests, pkg])
}

/** One task running `groups` graphs inside itself (`Task.forEach`), each of `perGroup` tasks in layers of 10, each printing a line. */
export const largeNested = (groups: number, perGroup: number) => {
  const shards = Task.forEach("shards", Array.from({ length: groups }, (_, k) => `shard ${k}`), () => {
    const tasks: Array<Task.Task<void>> = []
    for (let i = 0; i < perGroup; i++) {
      const before = i >= 10 ? [tasks[i - 10]!] : []
      tasks.push(Task.make(`task ${i}`, { after: before, run: Task.output(`line of task ${i}`) }))
    }
    return tasks
  })
  return TaskGraph.make(`large nested ${groups}×${perGroup}`, [shards])
}

/** One task whose lines come from each source a report tells apart: stdout, stderr, and logs at three levels. */
export const levels = () =>
  TaskGraph.make("levels", [
    Task.make("check", {
      run: Effect.gen(function*() {
        yield* Task.output("compiling")
        yield* Task.output("note: slow disk", "stderr")
        yield* Effect.log("3 files")
        yield* Effect.logWarning("cache miss")
        yield* Effect.logError("disk full")
      })
    })
  ])
