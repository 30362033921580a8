/**
 * `Main.runMain` at the type level: the Node platform services are provided;
 * any other service the graph needs must come from `options.layer`, or the
 * call does not compile. (Checked by `tsc`; the test body only makes sure the
 * file is collected. Nothing here is run: `runMain` would exit the process.)
 */
import { FileSystem } from "@effect/platform"
import { Context, Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import * as Main from "../src/Main.js"
import { Task, TaskGraph } from "../src/index.js"

class Database extends Context.Tag("Database")<Database, { readonly url: string }>() {}

const usesFs = TaskGraph.make("fs", [
  Task.make("read", { run: Effect.flatMap(FileSystem.FileSystem, (fs) => fs.exists("/")) })
])
const usesDb = TaskGraph.make("db", [
  Task.make("query", { run: Effect.map(Database, (db) => db.url) })
])
const dbLayer = Layer.succeed(Database, { url: "postgres://localhost" })

// never called: only type-checked
export const typeChecks = () => {
  Main.runMain(usesFs)
  Main.runMain(usesDb, { layer: dbLayer, concurrency: 2 })
  // @ts-expect-error Database is provided by nobody
  Main.runMain(usesDb)
  // @ts-expect-error the layer provides something else
  Main.runMain(usesDb, { layer: Layer.succeed(Context.GenericTag<"Other", number>("Other"), 1) })
}

describe("Main.runMain types", () => {
  it("is type-checked by tsc (see the @ts-expect-error lines)", () => {
    expect(typeof typeChecks).toBe("function")
  })
})
