/**
 * Many small asynchronous steps: 300 HTTP requests to a local server, each
 * a `Task.promise` task (a `fetch` the scheduler makes and awaits itself,
 * with no fiber per task), summed by a `Task.sync` task that reads their
 * tags.
 *
 * Then a run that fails: two slow requests are in flight when a third gets
 * an HTTP 500; fail-fast interrupts the slow ones, which aborts their
 * `fetch` through the signal each call was given (the server sees their
 * connections close), and the run ends at once.
 *
 * Run: npx tsx examples/promise-tasks.ts [pages]
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Context, Effect, Option } from "effect"
import { RunReport, Task, TaskGraph } from "effect-taskgraph"

const pages = Number(process.argv[2] ?? 300)
if (!Number.isInteger(pages) || pages < 1) {
  console.error(`usage: npx tsx examples/promise-tasks.ts [pages], a positive integer, got ${process.argv[2]}`)
  process.exit(2)
}

/** A local server: /page/N is N bytes; /slow never answers; /broken answers 500 once both /slow are in. */
const startServer = () =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Server; readonly url: string; readonly slowClosed: Promise<void> }>((resume) => {
      let slowIn = 0
      let slowOut = 0
      let answerBroken: (() => void) | undefined
      let closedBoth!: () => void
      const slowClosed = new Promise<void>((resolve) => (closedBoth = resolve))
      const server = createServer((request, response) => {
        const path = request.url ?? "/"
        if (path.startsWith("/page/")) return response.end("x".repeat(Number(path.slice("/page/".length))))
        if (path === "/slow") {
          if (++slowIn === 2) answerBroken?.()
          // nothing is sent: the client aborts, and the connection closes
          request.on("close", () => ++slowOut === 2 && closedBoth())
          return
        }
        if (path === "/broken") {
          const fail = () => response.writeHead(500).end("disk full")
          return slowIn === 2 ? fail() : void (answerBroken = fail)
        }
        response.writeHead(404).end()
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, slowClosed, server }))
      )
    }),
    ({ server }) =>
      Effect.sync(() => {
        server.closeAllConnections()
        server.close()
      })
  )

/** A fetch of `url` that fails on an HTTP error, aborted by `signal`. */
const get = (url: string, signal: AbortSignal): Promise<string> =>
  fetch(url, { signal }).then((response) =>
    response.ok ? response.text() : Promise.reject(new Error(`GET ${url}: HTTP ${response.status}`))
  )

type PageTag = Context.Tag<"Page", string>

const program = Effect.gen(function*() {
  const { slowClosed, url } = yield* startServer()

  const tags: ReadonlyArray<PageTag> = Array.from({ length: pages }, (_, i) => Context.GenericTag<"Page", string>(`page ${i}`))
  const fetches = tags.map((tag, i) => Task.promise(`fetch page ${i}`, { provides: tag, run: (_, signal) => get(`${url}/page/${i}`, signal) }))
  const total = Task.sync("total bytes", {
    requires: tags,
    run: (services) => tags.reduce((sum, tag) => sum + Context.get(services, tag).length, 0)
  })
  const t0 = performance.now()
  const report = yield* TaskGraph.run(TaskGraph.make("pages", [...fetches, total]))
  const bytes = Option.getOrThrow(RunReport.value(report, total))
  console.log(`Task.promise: ${report.tasks.length} tasks ${report.status} in ${(performance.now() - t0).toFixed(0)} ms; ${bytes} bytes fetched`)

  const slow = [1, 2].map((n) => Task.promise(`slow request ${n}`, { run: (_, signal) => get(`${url}/slow`, signal) }))
  const broken = Task.promise("broken request", { run: (_, signal) => get(`${url}/broken`, signal) })
  const failed = yield* Effect.flip(TaskGraph.run(TaskGraph.make("fail-fast", [...slow, broken])))
  if (failed._tag !== "RunFailedError") return yield* Effect.die(failed)
  for (const task of failed.report.tasks) {
    console.log(`  ${task.name}: ${task.status}${Option.match(task.stoppedBy, { onNone: () => "", onSome: (by) => ` (stopped when ${by} failed)` })}`)
  }
  yield* Effect.promise(() => slowClosed)
  console.log("fail-fast: the server saw both slow requests' connections close (their fetches were aborted)")
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exit(1)
})
