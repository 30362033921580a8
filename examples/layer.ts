/**
 * A graph used as a Layer inside an ordinary Effect program: the services its
 * tasks provide live as long as the layer, and are released (dependents first)
 * when the program ends. Run: npx tsx examples/layer.ts
 */
import { Context, Effect } from "effect"
import { Task, TaskGraph } from "effect-taskgraph"

class Database extends Context.Tag("Database")<Database, { readonly query: (sql: string) => Effect.Effect<number> }>() {}
class Cache extends Context.Tag("Cache")<Cache, { readonly get: (key: string) => Effect.Effect<string> }>() {}

const database = Task.make("start database", {
  provides: Database,
  run: Effect.acquireRelease(
    Effect.log("database up").pipe(Effect.as({ query: (sql: string) => Effect.succeed(sql.length) })),
    () => Effect.log("database down")
  )
})

const cache = Task.make("warm cache", {
  requires: [Database],
  provides: Cache,
  run: Effect.gen(function*() {
    const db = yield* Database
    const rows = yield* db.query("select * from users")
    yield* Effect.addFinalizer(() => Effect.log("cache dropped"))
    return { get: (key: string) => Effect.succeed(`${key}: ${rows} rows cached`) }
  })
})

const Environment = TaskGraph.toLayer(TaskGraph.make("environment", [database, cache]))

const program = Effect.gen(function*() {
  const c = yield* Cache
  console.log(yield* c.get("users"))
  const db = yield* Database
  console.log(`query cost: ${yield* db.query("select 1")}`)
})

Effect.runPromise(Effect.provide(program, Environment))
