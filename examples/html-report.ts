/**
 * A small build graph that writes a self-contained HTML report of its run:
 * the executed graph, the timeline, every task's output. Open the file in
 * any browser (it works offline, it makes no request; a logged warning is
 * shown in its own colour, and as `[compile] WARN …` on the terminal). "unit tests" runs one
 * small graph per suite inside itself (`Task.forEach`): the drawing shows
 * each as a box of its tasks. "package" needs a `Registry` no task
 * provides: it comes from the caller's context (the `layer` given to
 * `Main.runMain`) and is drawn as an input node.
 *
 *   npx tsx examples/html-report.ts            # succeeds; writes .taskgraph/html-report.html
 *   npx tsx examples/html-report.ts --fail     # suite "math" fails, so "unit tests" does, "package" is skipped (mode continue)
 *   npx tsx examples/html-report.ts --out FILE # somewhere else
 *
 * The same graph, planned only: `npx effect-taskgraph run examples/html-report.ts --dry-run --html graph.html`.
 */
import { Context, Effect, Layer } from "effect"
import { parseArgs } from "node:util"
import { Task, TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"

const { values: args } = parseArgs({
  options: { fail: { type: "boolean", default: false }, out: { type: "string", default: ".taskgraph/html-report.html" } }
})

class Source extends Context.Tag("Source")<Source, { readonly files: number }>() {}
class Binary extends Context.Tag("Binary")<Binary, { readonly path: string }>() {}
class Registry extends Context.Tag("Registry")<Registry, { readonly url: string }>() {}

const step = (line: string, ms: number) => Effect.zipRight(Effect.sleep(ms), Effect.log(line))

const checkout = Task.make("checkout", {
  provides: Source,
  run: Effect.gen(function*() {
    yield* step("cloning into work/ …", 40)
    yield* step("checked out 12 files", 30)
    return { files: 12 }
  })
})

const compile = Task.make("compile", {
  requires: [Source],
  provides: Binary,
  run: Effect.gen(function*() {
    const { files } = yield* Source
    for (let i = 1; i <= files; i++) yield* step(`cc -O2 -c src/part${i}.c`, 15)
    // output is shown as text, never as markup
    yield* Effect.logWarning("src/part7.c:3: warning: unused <script> tag in a comment")
    return { path: "build/app" }
  }).pipe(Effect.acquireRelease(() => Effect.log("removing build/ (compile released)")))
})

const lint = Task.make("lint", { requires: [Source], run: step("lint: 0 problems", 120) })

// one graph per suite, run inside "unit tests": build the suite's tests, then run them
const unitTests = Task.forEach("unit tests", ["parser", "math", "io"], (suite) => {
  const build = Task.make("build tests", {
    requires: [Binary],
    run: Effect.gen(function*() {
      const { path } = yield* Binary
      yield* step(`cc -o tests/${suite} tests/${suite}.c ${path}.o`, 25)
    })
  })
  const run = Task.make("run tests", {
    after: [build],
    run: Effect.gen(function*() {
      yield* step(`ok 1 - ${suite}: basics`, 30)
      if (args.fail && suite === "math") {
        yield* step("not ok 2 - rounds halves up: expected 3, got 2", 20)
        return yield* Effect.fail(new Error("1 of 2 tests failed: rounds halves up"))
      }
      yield* step(`ok 2 - ${suite}: edge cases`, 20)
    })
  })
  return [build, run]
}, { requires: [Binary] })

const pkg = Task.make("package", {
  requires: [Binary, Registry],
  after: [unitTests, lint],
  run: Effect.gen(function*() {
    const { url } = yield* Registry
    yield* step(`wrote dist/app.tar.gz for ${url}`, 50)
  })
})

// what the caller's context gives the graph: here a fixed registry
const registry = Layer.succeed(Registry, { url: "https://registry.example" })

const graph = TaskGraph.make("build and test", [checkout, compile, lint, unitTests, pkg])
export default graph

if (Main.isMain(import.meta.url)) {
  Main.runMain(graph, { html: args.out, mode: "continue", layer: registry })
}
