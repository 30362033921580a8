/**
 * Layers as tasks, and a fan-out discovered at run time:
 * - `Task.fromLayer` builds an ordinary Effect `Layer` (two services, one of
 *   them needing the config another task reads) as a task of the graph;
 * - `Task.forEach` runs each table's tasks as a graph inside the task, named
 *   after the table, sharing the run's `db` pool (at most 2 connections).
 * Run: npx tsx examples/layers.ts
 */
import { Context, Effect, Layer, Option } from "effect"
import { RunReport, Task, TaskGraph } from "effect-taskgraph"

class Config extends Context.Tag("Config")<Config, { readonly url: string }>() {}
class Database extends Context.Tag("Database")<Database, { readonly query: (sql: string) => Effect.Effect<ReadonlyArray<string>> }>() {}
class Metrics extends Context.Tag("Metrics")<Metrics, { readonly count: (what: string) => Effect.Effect<void> }>() {}

const config = Task.make("read config", { provides: Config, run: Effect.succeed({ url: "pg://localhost/shop" }) })

// an ordinary layer: Database needs Config (from the task above), Metrics needs nothing
const DatabaseLive = Layer.scoped(
  Database,
  Effect.gen(function*() {
    const { url } = yield* Config
    yield* Effect.acquireRelease(Effect.log(`connected to ${url}`), () => Effect.log("database closed"))
    return { query: (sql: string) => Effect.succeed(sql.startsWith("tables") ? ["users", "orders", "items"] : ["row"]) }
  })
)
const MetricsLive = Layer.succeed(Metrics, { count: (what: string) => Effect.log(`metric: ${what}`) })

const services = Task.fromLayer("start services", Layer.merge(DatabaseLive, MetricsLive), {
  provides: [Database, Metrics],
  requires: [Config]
})

// the tables are known only once the database is up: one group of tasks per table
const exportTables = Task.forEach(
  "export",
  Effect.flatMap(Database, (db) => db.query("tables")),
  (table) => [
    Task.make("dump", {
      requires: [Database, Metrics],
      pools: { db: 1 },
      run: Effect.gen(function*() {
        const db = yield* Database
        const rows = yield* db.query(`select * from ${table}`)
        yield* Effect.sleep("50 millis")
        yield* (yield* Metrics).count(`${table} dumped`)
        return rows.length
      })
    })
  ],
  // what the item tasks need from the graph comes through the fan-out task
  { requires: [Database, Metrics] }
)

const graph = TaskGraph.make("nightly export", [config, services, exportTables])

const program = Effect.gen(function*() {
  console.log(TaskGraph.toMermaid(graph))
  const report = yield* TaskGraph.run(graph, { pools: { db: 2 } })
  console.log(RunReport.summary(report))
  const provided = Option.match(RunReport.task(report, "start services"), { onNone: () => [], onSome: (t) => t.provides })
  console.log(`services provide: ${provided.join(", ")}`)
  console.log(`groups: ${report.groups.map((g) => g.name).join(", ")}`)
})

Effect.runPromise(program)
