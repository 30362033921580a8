/**
 * Parallel HTTP requests against a local server that the graph itself starts:
 *
 *   http server ──┬─> fetch item 1 ──┐
 *                 ├─> fetch item 2 ──┤
 *                 │        …         ├─> summary
 *                 └─> fetch item 8 ──┘
 *
 * - "http server" is a resource task: a node:http server on 127.0.0.1 (a
 *   random port), closed once the last fetch is done. Its request handler is
 *   plain callback code; it runs its work as effects in the task's context
 *   through a `Bridge.makePortal`, so the server's log lines are the task's
 *   output and its pending responses are interrupted when the task is
 *   released.
 * - At most 3 fetches run at once (`concurrency: 3`); each attempt has a
 *   400 ms timeout, and transient failures (503, timeouts) are retried with
 *   exponential backoff; a task as a whole must be ready within 3 s.
 * - Item 3 is flaky (503 twice, then fine); item 6 is slow the first time
 *   (its first attempt times out).
 * - `--fail`: item 5 answers 500 for good: its task fails, fail-fast
 *   interrupts the fetches in flight (the server sees the clients go away),
 *   skips the summary ("blocked by fetch item 5": it needs every item) and
 *   the fetches not started yet ("stopped when fetch item 5 failed": they do
 *   not need it), and the run fails with the report.
 *
 *   npx tsx examples/requests.ts
 *   npx tsx examples/requests.ts --fail
 */
import { FetchHttpClient, HttpClient, HttpClientResponse } from "@effect/platform"
import { Console, Context, Duration, Effect, Schedule, Schema } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Task, TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"
import { Bridge } from "effect-taskgraph/workers"

const failing = process.argv.includes("--fail")
const ids = [1, 2, 3, 4, 5, 6, 7, 8]

class Server extends Context.Tag("Server")<Server, { readonly url: string }>() {}

class Item extends Schema.Class<Item>("Item")({ id: Schema.Number, name: Schema.String, price: Schema.Number }) {}

/** How the server answers one request, as an effect (run through the portal). */
const respond = (id: number, attempt: number, res: http.ServerResponse) =>
  Effect.gen(function*() {
    if (id === 3 && attempt <= 2) {
      res.writeHead(503).end("busy, try again")
      return yield* Task.output(`GET /items/${id} (attempt ${attempt}) -> 503`)
    }
    if (id === 5 && failing) {
      res.writeHead(500).end("database is on fire")
      return yield* Task.output(`GET /items/${id} (attempt ${attempt}) -> 500`)
    }
    // item 6 is slow the first time: longer than the client's 400 ms per-attempt timeout
    yield* Effect.sleep(id === 6 && attempt === 1 ? "2 seconds" : Duration.millis(50 + 30 * id))
    res.writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ id, name: `item ${id}`, price: id * 1.5 }))
    yield* Task.output(`GET /items/${id} (attempt ${attempt}) -> 200`)
  }).pipe(
    // the client gave up (timeout, fail-fast) or the server is being released
    Effect.onInterrupt(() => Task.output(`GET /items/${id} (attempt ${attempt}) -> abandoned`))
  )

const server = Task.make("http server", {
  provides: Server,
  run: Effect.gen(function*() {
    const portal = yield* Bridge.makePortal()
    const attempts = new Map<number, number>()
    const srv = http.createServer((req, res) => {
      const id = Number(/^\/items\/(\d+)$/.exec(req.url ?? "")?.[1])
      const attempt = (attempts.get(id) ?? 0) + 1
      attempts.set(id, attempt)
      // plain callback code drives an effect in this task's context; if the client goes
      // away, the AbortSignal interrupts it
      const aborted = new AbortController()
      res.on("close", () => {
        if (!res.writableFinished) aborted.abort(new Error("client went away"))
      })
      portal.submit(respond(id, attempt, res), { signal: aborted.signal }).catch(() => {
        if (!res.headersSent) res.writeHead(503).end()
      })
    })
    yield* Effect.acquireRelease(
      Effect.sync(() => srv.listen(0, "127.0.0.1")),
      () =>
        Effect.async<void>((resume) => {
          srv.closeAllConnections()
          srv.close(() => resume(Effect.void))
        }).pipe(Effect.zipRight(Console.log("[http server] closed")))
    )
    yield* Bridge.once(srv, "listening")
    const { port } = srv.address() as AddressInfo
    yield* Task.output(`listening on http://127.0.0.1:${port}`)
    return { url: `http://127.0.0.1:${port}` }
  })
})

/** Transient failures worth another attempt: timeouts and 503. */
const transient = (error: { readonly _tag: string; readonly reason?: string; readonly response?: { readonly status: number } }) =>
  error._tag === "TimeoutException" || (error._tag === "ResponseError" && error.response?.status === 503)

const fetches = ids.map((id) =>
  Task.make(`fetch item ${id}`, {
    requires: [Server],
    timeout: "3 seconds", // the whole task, retries included
    run: Effect.gen(function*() {
      const { url } = yield* Server
      const client = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
      let attempt = 0
      const item = yield* Effect.suspend(() => {
        attempt++
        return client.get(`${url}/items/${id}`).pipe(
          Effect.flatMap(HttpClientResponse.schemaBodyJson(Item)),
          Effect.timeout("400 millis"), // one attempt
          Effect.tapError((e) => Task.output(`attempt ${attempt} failed: ${e._tag === "TimeoutException" ? "timed out" : e.message}`))
        )
      }).pipe(
        Effect.retry({
          schedule: Schedule.exponential("50 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
          while: transient
        })
      )
      yield* Task.output(`${item.name}: ${item.price} (after ${attempt} attempt${attempt > 1 ? "s" : ""})`)
      return item
    })
  })
)

const summary = Task.make("summary", {
  after: fetches,
  run: Task.output("all items fetched")
})

const graph = TaskGraph.make("fetch items", [server, ...fetches, summary])

// the plain reporter in CI or a pipe, the live view in a terminal; exits 0, or 1 with --fail
Main.runMain(graph, { concurrency: 3, mode: "fail-fast", layer: FetchHttpClient.layer })
