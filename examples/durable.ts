/**
 * A durable run: every task's outcome is kept in a sqlite store under the
 * run id, so running again with the same id resumes where the last process
 * stopped (crash, SIGKILL, failure): what had succeeded is not run again.
 *
 *   npx tsx examples/durable.ts --run-id demo-1 --crash-at link   # SIGKILLs itself inside "link"
 *   npx tsx examples/durable.ts --run-id demo-1                   # resumes: only "link" and "test" run
 *   npx tsx examples/durable.ts --run-id demo-1                   # already succeeded: prints it, runs nothing
 *
 * Options: --store FILE (default .taskgraph/runs.db), --crash-at NAME (the
 * process kills itself with SIGKILL inside that task), --fail-at NAME (that
 * task fails), --out DIR (where each task appends its name to ran.log when
 * it really runs; default .taskgraph/durable-example).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { Context, Effect, Schema } from "effect"
import { Task, TaskGraph } from "effect-taskgraph"
import { Durable } from "effect-taskgraph/durable"
import { Main } from "effect-taskgraph/node"

const { values: args } = parseArgs({
  // when `effect-taskgraph run examples/durable.ts` imports it, the arguments are the CLI's
  args: Main.isMain(import.meta.url) ? process.argv.slice(2) : [],
  options: {
    "run-id": { type: "string", default: "durable-example" },
    store: { type: "string", default: Durable.defaultStore },
    "crash-at": { type: "string" },
    "fail-at": { type: "string" },
    out: { type: "string", default: ".taskgraph/durable-example" }
  }
})
const out = path.resolve(args.out)

/** What a task does when it really runs: leaves a trace on disk, then crashes or fails if asked to. */
const work = <A>(name: string, value: A) =>
  Effect.gen(function*() {
    fs.mkdirSync(out, { recursive: true })
    fs.appendFileSync(path.join(out, "ran.log"), `${name}\n`)
    yield* Task.output(`working (pid ${process.pid})`)
    if (args["crash-at"] === name) process.kill(process.pid, "SIGKILL")
    if (args["fail-at"] === name) return yield* Effect.fail(new BuildError({ step: name }))
    return value
  })

class BuildError extends Schema.TaggedError<BuildError>()("BuildError", { step: Schema.String }) {
  override get message() {
    return `${this.step} failed (run again without --fail-at to resume)`
  }
}

const Sources = Schema.Struct({ files: Schema.Array(Schema.String) })
class Fetched extends Context.Tag("Fetched")<Fetched, typeof Sources.Type>() {}
class ObjectA extends Context.Tag("ObjectA")<ObjectA, string>() {}
class ObjectB extends Context.Tag("ObjectB")<ObjectB, string>() {}
class Binary extends Context.Tag("Binary")<Binary, string>() {}

const fetch = Task.make("fetch", {
  provides: Fetched,
  schema: Sources,
  run: work("fetch", { files: ["a.c", "b.c"] })
})
const compileA = Task.make("compile a", {
  requires: [Fetched],
  provides: ObjectA,
  schema: Schema.String,
  errorSchema: BuildError,
  run: Effect.flatMap(Fetched, (s) => work("compile a", `${s.files[0]}.o`))
})
const compileB = Task.make("compile b", {
  requires: [Fetched],
  provides: ObjectB,
  schema: Schema.String,
  errorSchema: BuildError,
  run: Effect.flatMap(Fetched, (s) => work("compile b", `${s.files[1]}.o`))
})
const link = Task.make("link", {
  requires: [ObjectA, ObjectB],
  provides: Binary,
  schema: Schema.String,
  errorSchema: BuildError,
  run: Effect.flatMap(Effect.all([ObjectA, ObjectB]), ([a, b]) => work("link", `app(${a}+${b})`))
})
const test = Task.make("test", {
  requires: [Binary],
  schema: Schema.Number,
  errorSchema: BuildError,
  run: Effect.flatMap(Binary, (bin) => Effect.zipRight(Task.output(`testing ${bin}`), work("test", 3)))
})

const graph = TaskGraph.make("durable build", [fetch, compileA, compileB, link, test])
export default graph

if (Main.isMain(import.meta.url)) Durable.runMain(graph, { runId: args["run-id"], store: args.store })
