/**
 * The HTML report's speed goals (issue 13), measured here rather than
 * asserted in tests:
 *
 * - a 5,000-task run's report is written in under 2 s and is under 10 MB;
 * - it loads in headless Chromium in under 3 s (until its script is done);
 * - the largest graph still drawn task by task (150 tasks, the default
 *   `maxDrawn`) is laid out and written in reasonable time;
 * - the same goals with 5,000 tasks in 100 graphs run inside one task
 *   (condensed), and 150 tasks in 10 such graphs (drawn as boxes).
 *
 *   npx tsx bench/html.ts          # also part of `npm run bench`; writes bench/results/html.json
 *
 * Median of 5 (min–max). Needs /usr/bin/chromium (scripts/ensure-chromium.sh).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Chunk, Effect, Stream } from "effect"
import { TaskGraph } from "effect-taskgraph"
import * as HtmlData from "../src/internal/html/data.js"
import * as HtmlFile from "../src/internal/html/file.js"
import * as HtmlLines from "../src/internal/html/lines.js"
import * as HtmlRender from "../src/internal/html/render.js"
import * as Browser from "../test/helpers/browser.js"
import * as Graphs from "../test/html/graphs.js"

const reps = 5
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-bench-html-"))

const stats = (values: Array<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! }
}
const show = (s: { median: number; min: number; max: number }, unit = "ms") =>
  `${s.median.toFixed(0)} ${unit} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`

/** Runs a graph, keeping its plan, events and report, as the reporter session sees them. */
const record = <E>(graph: TaskGraph.TaskGraph<E, never, unknown>) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const plan = yield* TaskGraph.validate(graph)
    const handle = yield* TaskGraph.start(graph)
    const events = Chunk.toReadonlyArray(yield* Stream.runCollect(handle.events))
    const report = yield* handle.await
    return { plan, events, report }
  })))

/** What `Reporter.html` does at the end of a run: the page data, the document, the file. */
const writeReport = async (recorded: Awaited<ReturnType<typeof record>>, file: string) => {
  const started = performance.now()
  const collected = HtmlLines.make(recorded.plan.tasks, { head: 200, tail: 2000 })
  for (const e of recorded.events) HtmlLines.add(collected, e)
  const maxDrawn = HtmlRender.DEFAULT_MAX_DRAWN
  const data = HtmlData.fromRun(recorded.plan, collected, recorded.report, {
    stoppedBy: undefined,
    signals: os.constants.signals,
    maxDrawn,
    now: Date.now()
  })
  const dagre = await Effect.runPromise(HtmlRender.loadFor(data))
  HtmlFile.write(file, HtmlRender.renderSync(data, dagre))
  return performance.now() - started
}

const results: Record<string, unknown> = {}

const cases: ReadonlyArray<readonly [string, () => TaskGraph.TaskGraph<unknown, never, unknown>]> = [
  ["5000", () => Graphs.large(5000, 50)],
  [String(HtmlRender.DEFAULT_MAX_DRAWN), () => Graphs.large(HtmlRender.DEFAULT_MAX_DRAWN, 10)],
  ["nested-5000", () => Graphs.largeNested(100, 50)],
  ["nested-150", () => Graphs.largeNested(10, 14)]
]
for (const [name, make] of cases) {
  const recorded = await record(make())
  const file = path.join(dir, `report-${name}.html`)
  await writeReport(recorded, file) // warm-up (loads dagre, JIT)
  const times: Array<number> = []
  for (let k = 0; k < reps; k++) times.push(await writeReport(recorded, file))
  const write = stats(times)
  const bytes = fs.statSync(file).size
  console.log(`${name} (${recorded.report.tasks.length} tasks): report written in ${show(write)}, ${(bytes / 1024 / 1024).toFixed(2)} MB`)
  results[`write-${name}`] = { ...write, bytes }
}

const browser = await Browser.launch()
try {
  for (const name of ["5000", "nested-5000"]) {
    const file = path.join(dir, `report-${name}.html`)
    const loads: Array<number> = []

    for (let k = 0; k < reps + 1; k++) {
      const started = performance.now()
      const watched = await Browser.open(browser, file)
      const ms = performance.now() - started

      if (watched.errors.length > 0 || watched.requests.length > 0) throw new Error(`page errors: ${watched.errors} ${watched.requests}`)
      await watched.page.close()
      if (k > 0) loads.push(ms) // the first one warms the browser up
    }
    const load = stats(loads)
    console.log(`${name}: page loaded (script done) in ${show(load)}`)
    results[`load-${name}`] = load
  }
} finally {
  await browser.close()
}

const goals = {
  "write 5000 < 2000 ms": (results["write-5000"] as { median: number }).median < 2000,
  "size 5000 < 10 MB": (results["write-5000"] as { bytes: number }).bytes < 10 * 1024 * 1024,
  "load 5000 < 3000 ms": (results["load-5000"] as { median: number }).median < 3000,
  "write nested-5000 < 2000 ms": (results["write-nested-5000"] as { median: number }).median < 2000,
  "size nested-5000 < 10 MB": (results["write-nested-5000"] as { bytes: number }).bytes < 10 * 1024 * 1024,
  "load nested-5000 < 3000 ms": (results["load-nested-5000"] as { median: number }).median < 3000
}
console.log(goals)
fs.mkdirSync("bench/results", { recursive: true })
fs.writeFileSync("bench/results/html.json", JSON.stringify({ date: new Date().toISOString(), load: os.loadavg(), results, goals }, null, 2) + "\n")
fs.rmSync(dir, { recursive: true, force: true })
