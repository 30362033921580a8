/**
 * The HTML report in a real browser: Debian's Chromium, headless, driven by
 * playwright-core (scripts/ensure-chromium.sh installs it; `pretest` runs
 * that). Each page must load offline with no console error and no request,
 * show every task node with its status, show a task's output when its node
 * is clicked, and show a failure's message. Screenshots go to .taskgraph/
 * (not committed) for people to look at.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Deferred, Effect, Fiber } from "effect"
import { Reporter, Task, TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Browser from "./helpers/browser.js"
import * as Graphs from "./html/graphs.js"
import { runNested, runWithHtml } from "./html/report.js"

const shots = path.resolve(".taskgraph")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-html-browser-"))
let browser: Browser.Browser

beforeAll(async () => {
  fs.mkdirSync(shots, { recursive: true })
  browser = await Browser.launch()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  fs.rmSync(tmp, { recursive: true, force: true })
})

/** Opens a report; checks it loaded with no error and no request; returns the page. */
const load = async (file: string) => {
  const watched = await Browser.open(browser, file)
  expect(watched.errors).toEqual([])
  expect(watched.requests).toEqual([])
  return watched
}

const nodeClasses = (watched: Browser.Watched) =>
  watched.page.$$eval("svg.graph g.node", (nodes) => nodes.map((n) => n.getAttribute("class")!.split(" ")[1]!))

const outputOf = (watched: Browser.Watched) =>
  watched.page.$$eval("#lines .ln .txt", (lines) => lines.map((l) => l.textContent))

describe("the HTML report in Chromium", () => {
  it("a successful run: loads offline, every node with its status, a click shows the task's output", async () => {
    const file = path.join(tmp, "success.html")
    await Effect.runPromise(runWithHtml(Graphs.success(false), file))
    const watched = await load(file)
    const { page } = watched
    expect(await nodeClasses(watched)).toEqual(Array(5).fill("st-released"))
    expect(await page.textContent("#outcome")).toBe("succeeded")
    await page.click(`svg.graph g.node[data-i="1"]`)
    expect(await page.textContent("#details .d-name")).toBe("compile")
    expect(await outputOf(watched)).toEqual([
      "cc -c main.c",
      `<script>document.title = "pwned"</script><img src=x onerror="document.title='pwned'">`,
      "red warning and a bell\u2407",
      "bad byte: \ufffd end"
    ])
    // the output was text, not markup: nothing ran, no image element came from it
    expect(await page.title()).not.toBe("pwned")
    expect(await page.$$eval("#details img", (imgs) => imgs.length)).toBe(0)
    // searching the output
    await page.fill("#details input.search", "main.c")
    expect(await outputOf(watched)).toEqual(["cc -c main.c"])
    expect(await page.textContent("#details mark")).toBe("main.c")
    await page.fill("#details input.search", "")
    // precedence edges are drawn dashed, data edges solid, the critical path thicker
    const stroke = (selector: string) =>
      page.$eval(selector, (e) => {
        const style = e.ownerDocument.defaultView!.getComputedStyle(e)
        return { dash: style.strokeDasharray, width: parseFloat(style.strokeWidth) }
      })
    expect((await stroke(`path.edge.precedence[data-from="2"]`)).dash).not.toBe("none")
    expect((await stroke(`path.edge.data[data-from="1"][data-to="3"]`)).dash).toBe("none")
    expect((await stroke(`path.edge.crit`)).width).toBeGreaterThan((await stroke(`path.edge.precedence[data-from="2"]`)).width)
    expect(await page.isVisible(`svg.graph .elabel`)).toBe(true)
    // the header: outcome, total time, exit code
    expect(await page.textContent("header.top .stats")).toMatch(/total time\d.*exit code0/)
    await page.screenshot({ path: path.join(shots, "report-success.png"), fullPage: true })
    expect(watched.errors).toEqual([])
    await page.close()
  }, 60_000)

  it("a failed run (continue): the failure's message is visible, the skipped task names what blocked it", async () => {
    const file = path.join(tmp, "failed.html")
    await Effect.runPromise(runWithHtml(Graphs.success(true), file, "continue"))
    const watched = await load(file)
    const { page } = watched
    expect(await nodeClasses(watched)).toEqual(["st-released", "st-released", "st-released", "st-failed", "st-skipped"])
    expect(await page.textContent("#outcome")).toBe("failed")
    // the header lists the failure, and the failed task is shown at once
    expect(await page.isVisible(".failures .failure-message")).toBe(true)
    expect(await page.textContent(".failures .failure-message")).toBe("expected 3, got 2")
    expect(await page.textContent("#details .d-name")).toBe("unit tests")
    expect(await page.isVisible("#details .error-message")).toBe(true)
    expect(await page.textContent("#details .error-message")).toBe("expected 3, got 2")
    expect(await page.textContent("#details details.cause pre")).toContain("Error: expected 3, got 2")
    expect(await outputOf(watched)).toEqual(["ok 1 - parses", "not ok 2 - rounds halves up"])
    await page.screenshot({ path: path.join(shots, "report-failed.png"), fullPage: true })
    await page.click(`svg.graph g.node[data-i="4"]`)
    expect(await page.textContent("#details .d-name")).toBe("package")
    expect(await page.textContent("#details dl.facts")).toContain("blocked byunit tests")
    // the table row says it too
    expect(await page.textContent(`tr.task-row[data-i="4"] td.note`)).toBe("blocked by unit tests")
    expect(watched.errors).toEqual([])
    await page.close()
  }, 60_000)

  it("fail-fast: a task that did not need the failed one says the failure stopped it", async () => {
    const file = path.join(tmp, "fail-fast.html")
    // fails after a yield: docs has started by then
    const unit = Task.make("unit", { run: Effect.zipRight(Effect.yieldNow(), Effect.fail(new Error("2 tests failed"))) })
    const deploy = Task.make("deploy", { after: [unit], run: Effect.void })
    const docs = Task.make("docs", { run: Effect.never })
    const publish = Task.make("publish", { after: [docs], run: Effect.void })
    await Effect.runPromise(runWithHtml(TaskGraph.make("ff", [unit, deploy, docs, publish]), file))
    const watched = await load(file)
    const { page } = watched
    expect(await page.textContent(`tr.task-row[data-i="1"] td.note`)).toBe("blocked by unit")
    expect(await page.textContent(`tr.task-row[data-i="2"] td.note`)).toBe("stopped when unit failed")
    await page.click(`svg.graph g.node[data-i="3"]`)
    expect(await page.textContent("#details dl.facts")).toContain("stopped byunit")
    expect(await page.textContent("#details p.hint")).toBe("skipped: it did not need unit, but that task's failure stopped the run (fail-fast) before it could start")
    expect(watched.errors).toEqual([])
    await page.close()
  }, 60_000)

  it("a task's lines show where they came from, warnings and errors in their own colours", async () => {
    const file = path.join(tmp, "levels.html")
    await Effect.runPromise(runWithHtml(Graphs.levels(), file))
    const watched = await load(file)
    const { page } = watched
    await page.click(`svg.graph g.node[data-i="0"]`)
    const rows = await page.$$eval("#lines .ln", (rows) =>
      rows.map((r) => {
        const text = r.querySelector(".txt")!
        return { source: r.querySelector(".s")!.textContent, text: text.textContent, color: r.ownerDocument.defaultView!.getComputedStyle(text).color }
      }))
    expect(rows.map((r) => [r.source, r.text])).toEqual([
      ["out", "compiling"],
      ["err", "note: slow disk"],
      ["log", "3 files"],
      ["warn", "cache miss"],
      ["error", "disk full"]
    ])
    // a warning and an error stand out from the other lines and from each other
    const colors = rows.map((r) => r.color)
    expect(new Set(colors).size).toBe(5)
    await page.screenshot({ path: path.join(shots, "report-levels.png"), fullPage: true })
    expect(watched.errors).toEqual([])
    await page.close()
  }, 60_000)

  it("an interrupted run: the running task is interrupted, its output is there", async () => {
    const file = path.join(tmp, "interrupted.html")
    await Effect.runPromise(Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(runWithHtml(Graphs.hanging(started), file))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
    }))
    const watched = await load(file)
    const { page } = watched
    expect(await nodeClasses(watched)).toEqual(["st-released", "st-interrupted", "st-skipped"])
    expect(await page.textContent("#outcome")).toBe("interrupted")
    await page.click(`svg.timeline g.trow[data-i="1"]`)
    expect(await page.textContent("#details .d-name")).toBe("run tests")
    expect(await outputOf(watched)).toEqual(["SLOW-TEST-STARTED"])
    await page.screenshot({ path: path.join(shots, "report-interrupted.png"), fullPage: true })
    expect(watched.errors).toEqual([])
    await page.close()
  }, 60_000)

  it("a long log is collapsed to its tail, all of it on request", async () => {
    const file = path.join(tmp, "noisy.html")
    const noisy = Task.make("noisy", {
      run: Effect.forEach(Array.from({ length: 500 }, (_, i) => i), (i) => Task.output(`line ${i}`), { discard: true })
    })
    await Effect.runPromise(Main.run(TaskGraph.make("noisy", [noisy]), { reporter: [Reporter.html(file)] }))
    const watched = await load(file)
    const { page } = watched
    await page.click(`svg.graph g.node[data-i="0"]`)
    const shown = await outputOf(watched)
    expect(shown).toHaveLength(200)
    expect(shown[0]).toBe("line 300")
    expect(shown.at(-1)).toBe("line 499")
    expect(await page.textContent("#lines button.more")).toBe("show all 500 lines (300 earlier lines hidden)")
    // the lines box is scrolled to the tail
    expect(await page.$eval("#lines", (b) => b.scrollTop > 0 && b.scrollTop + b.clientHeight >= b.scrollHeight - 2)).toBe(true)
    await page.click("#lines button.more")
    expect(await outputOf(watched)).toHaveLength(500)
    // a search looks through every line, not only the shown tail
    await page.fill("#details input.search", "line 12")
    expect(await outputOf(watched)).toEqual(["line 12", ...Array.from({ length: 10 }, (_, k) => `line ${120 + k}`)])
    expect(watched.errors).toEqual([])
    await page.close()
  }, 60_000)

  it("graphs run inside tasks: each a visible box holding its tasks' nodes; the tag from the context is shown", async () => {
    const file = path.join(tmp, "nested.html")
    await Effect.runPromise(runNested(file))
    const watched = await load(file)
    const { page } = watched
    const boxes = await page.$$eval("svg.graph g.group", (groups) =>
      groups.map((g) => {
        const r = g.querySelector("rect.gbox")!.getBoundingClientRect()
        return { group: Number(g.getAttribute("data-group")), label: g.querySelector(".glabel")!.textContent, x: r.x, y: r.y, w: r.width, h: r.height }
      }))
    expect(boxes.map((b) => b.label).sort()).toEqual(["chromium", "e2e", "unit"])
    for (const b of boxes) expect(b.w > 0 && b.h > 0).toBe(true)
    expect(await page.isVisible(`svg.graph g.group[data-group="0"]`)).toBe(true)
    const data = JSON.parse((await page.textContent("#taskgraph-data"))!) as {
      tasks: Array<{ name: string; group: number | null }>
      groups: Array<{ parent: number | null }>
    }
    const nodes = await page.$$eval("svg.graph g.node", (list) =>
      list.map((n) => {
        const r = n.querySelector("rect.box")!.getBoundingClientRect()
        return { i: Number(n.getAttribute("data-i")), name: n.querySelector(".name")!.textContent, x: r.x, y: r.y, w: r.width, h: r.height }
      }))
    expect(nodes).toHaveLength(data.tasks.length)
    const inside = (n: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }) =>
      n.x >= b.x && n.y >= b.y && n.x + n.w <= b.x + b.w && n.y + n.h <= b.y + b.h
    const boxOf = (k: number) => boxes.find((b) => b.group === k)!
    for (const n of nodes) {
      const group = data.tasks[n.i]!.group
      // a nested task's node is inside its group's box and every enclosing one; a task of the run's own is in none
      for (const b of boxes) {
        let member = false
        for (let k = group; k !== null; k = data.groups[k]!.parent) if (k === b.group) member = true
        expect(inside(n, boxOf(b.group)), `${data.tasks[n.i]!.name} in ${b.label}`).toBe(member)
      }
    }
    // drawn by their own name in the box; the full name in the details
    const drive = data.tasks.findIndex((t) => t.name === "tests / e2e / run / chromium / drive")
    expect(nodes.find((n) => n.i === drive)!.name).toBe("drive")
    await page.click(`svg.graph g.node[data-i="${drive}"]`)
    expect(await page.textContent("#details .d-name")).toBe("tests / e2e / run / chromium / drive")
    expect(await page.textContent("#details dl.facts")).toContain("graph chromium, run inside tests / e2e / run")
    expect(await outputOf(watched)).toEqual(["driving chromium"])
    // the tag from the caller's context: an input node, with its edge to "package"
    expect(await page.isVisible("svg.graph g.ctx")).toBe(true)
    expect(await page.textContent("svg.graph g.ctx .cname")).toBe("Registry")
    expect(await page.textContent("svg.graph g.ctx .csub")).toBe("from context")
    expect(await page.$$eval("svg.graph path.edge.ctx", (p) => p.length)).toBe(1)
    await page.click(`svg.graph g.node[data-i="${data.tasks.findIndex((t) => t.name === "package")}"]`)
    expect(await page.textContent("#details dl.facts")).toContain("from contextRegistry")
    await page.screenshot({ path: path.join(shots, "report-nested.png"), fullPage: true })
    expect(watched.errors).toEqual([])
    await page.close()
  }, 60_000)

  it("5,000 tasks: the page loads with the condensed drawing and all 5,000 rows; a row shows its task", async () => {
    const file = path.join(tmp, "large.html")
    await Effect.runPromise(runWithHtml(Graphs.large(5000), file))
    const watched = await load(file)
    const { page } = watched
    expect(await page.$$eval("svg.condensed g.band", (b) => b.length)).toBe(50)
    // every task is in the table (only the rows in view are in the page): the last one at the bottom…
    expect(await page.textContent("#task-count")).toBe("5000 tasks")
    await page.$eval("#table-wrap", (w) => (w.scrollTop = w.scrollHeight))
    await page.waitForSelector(`tr.task-row[data-i="4999"]`)
    // …and any one by filtering
    await page.fill("#task-filter", "task 4321")
    expect(await page.textContent("#task-count")).toBe("1 of 5000 tasks")
    await page.click(`tr.task-row[data-i="4321"]`)
    expect(await page.textContent("#details .d-name")).toBe("task 4321")
    expect(await outputOf(watched)).toEqual(["line of task 4321"])
    await page.screenshot({ path: path.join(shots, "report-large.png") })
    expect(watched.errors).toEqual([])
    await page.close()
  }, 120_000)
})
