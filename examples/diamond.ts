/**
 * Data flowing through typed services: a diamond of tasks where each hands a
 * typed value to the next. Prints the planned Mermaid graph, the summary, the
 * executed graph and the Gantt chart. Run: npx tsx examples/diamond.ts
 */
import { Context, Effect } from "effect"
import { RunReport, Task, TaskGraph } from "effect-taskgraph"

class Source extends Context.Tag("Source")<Source, { readonly files: ReadonlyArray<string> }>() {}
class Compiled extends Context.Tag("Compiled")<Compiled, { readonly objects: number }>() {}
class Linted extends Context.Tag("Linted")<Linted, { readonly warnings: number }>() {}

const checkout = Task.make("checkout", {
  provides: Source,
  run: Effect.gen(function*() {
    yield* Effect.sleep("100 millis")
    yield* Task.output("checked out 3 files")
    // a scoped resource: released once compile and lint are done with it
    yield* Effect.addFinalizer(() => Effect.log("removing the checkout"))
    return { files: ["a.ts", "b.ts", "c.ts"] }
  })
})

const compile = Task.make("compile", {
  requires: [Source],
  provides: Compiled,
  run: Effect.gen(function*() {
    const { files } = yield* Source
    yield* Effect.sleep("300 millis")
    return { objects: files.length }
  })
})

const lint = Task.make("lint", {
  requires: [Source],
  provides: Linted,
  run: Effect.gen(function*() {
    yield* Effect.sleep("200 millis")
    return { warnings: 1 }
  })
})

const pack = Task.make("package", {
  requires: [Compiled, Linted],
  run: Effect.gen(function*() {
    const { objects } = yield* Compiled
    const { warnings } = yield* Linted
    yield* Effect.sleep("100 millis")
    return `package with ${objects} objects (${warnings} lint warning)`
  })
})

const graph = TaskGraph.make("build", [checkout, compile, lint, pack])

const program = Effect.gen(function*() {
  console.log("planned:\n" + TaskGraph.toMermaid(graph) + "\n")
  const report = yield* TaskGraph.run(graph)
  console.log(RunReport.summary(report) + "\n")
  // what a task produced, typed as its `run` says (here: string)
  const built = RunReport.value(report, pack)
  if (built._tag === "Some") console.log(`built: ${built.value.toUpperCase()}\n`)
  console.log("executed:\n" + RunReport.toMermaid(report) + "\n")
  console.log("timeline:\n" + RunReport.toGantt(report))
})

Effect.runPromise(program)
