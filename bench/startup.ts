/**
 * Start-up cost of the built package (issue 10), each measure a fresh
 * process, the kinds interleaved run by run so they see the same load:
 *
 * - `import "effect-taskgraph"` against `import "effect"` alone: wall time
 *   (target <= 1.2x) and peak RSS (target <= 15 MB more);
 * - the compiled CLI on a one-task `.js` graph (`node dist/bin.js run …`,
 *   what `npx effect-taskgraph run` starts) against `node -e
 *   'import("effect")'` as the floor: target <= 0.5 s and <= 110 MB;
 * - npx's own start-up (`npx --no -- node -e 0`), which `npx effect-taskgraph`
 *   adds on top;
 * - the same CLI run on Node 22 (scripts/ensure-node22.sh fetches it), with
 *   its compile cache off (`NODE_DISABLE_COMPILE_CACHE=1`) and on (warm: the
 *   unmeasured round wrote it): what `module.enableCompileCache()` in
 *   `dist/bin.js` saves each run after the first. Node 20 has no such cache.
 *
 * Wall time is measured here; peak RSS and CPU time (user + system, less
 * sensitive to other load on a shared machine) by /usr/bin/time. Needs
 * `npm run build` first (`npm run bench` does it).
 *
 *   npx tsx bench/startup.ts [runs]     (default 7; writes bench/results/startup.json)
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const runs = Math.max(5, Number(process.argv[2] ?? 7))
const timeBin = "/usr/bin/time"

if (!fs.existsSync(path.join(root, "dist", "bin.js"))) {
  console.error("dist/ is missing: run `npm run build` first (npm run bench does)")
  process.exit(1)
}
if (!fs.existsSync(timeBin)) {
  console.error(`${timeBin} is missing (apt-get install time): it measures peak RSS and CPU time`)
  process.exit(1)
}

// A one-task graph as a user writes it in JavaScript. It sits in the repository, so
// "effect-taskgraph" resolves to the built package (dist/) by the package's own name.
const build = path.join(root, "bench", ".build")
fs.mkdirSync(build, { recursive: true })
const graphFile = path.join(build, "one-task-graph.js")
fs.writeFileSync(
  graphFile,
  `import { Effect } from "effect"\nimport { Task, TaskGraph } from "effect-taskgraph"\n\n` +
    `export default TaskGraph.make("one", [Task.make("only", { run: Effect.log("done") })])\n`
)

interface Kind {
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly env?: Record<string, string>
}

const node22 = spawnSync("bash", [path.join(root, "scripts", "ensure-node22.sh")], { encoding: "utf8" })
if (node22.status !== 0) {
  console.error(`scripts/ensure-node22.sh failed: ${node22.stderr}`)
  process.exit(1)
}
const node22Bin = node22.stdout.trim()
// Node keeps its compile cache in $TMPDIR/node-compile-cache: a private one, removed at the end
const cacheTmpdir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-taskgraph-startup-cache-"))
const cliArgs = [path.join(root, "dist", "bin.js"), "run", graphFile, "--reporter", "plain"]

const importOf = (specifier: string): Kind => ({
  name: `import "${specifier}"`,
  args: [process.execPath, "--input-type=module", "-e", `await import(${JSON.stringify(specifier)})`]
})
const kinds: ReadonlyArray<Kind> = [
  importOf("effect"),
  importOf("effect-taskgraph"),
  { name: `node -e 'import("effect")'`, args: [process.execPath, "-e", `import("effect")`] },
  { name: "effect-taskgraph run one-task-graph.js", args: [process.execPath, ...cliArgs] },
  { name: "npx --no -- node -e 0 (npx's own start-up)", args: ["npx", "--no", "--", "node", "-e", "0"] },
  { name: "the same CLI run, Node 22, compile cache off", args: [node22Bin, ...cliArgs], env: { NODE_DISABLE_COMPILE_CACHE: "1" } },
  { name: "the same CLI run, Node 22, compile cache on (warm)", args: [node22Bin, ...cliArgs], env: { TMPDIR: cacheTmpdir } }
]

interface Sample {
  readonly wallMs: number
  readonly cpuMs: number
  readonly rssMB: number
}

const env: NodeJS.ProcessEnv = { ...process.env, CI: "true" }
for (const key of Object.keys(env)) {
  if (key.startsWith("npm_") || ["NODE_OPTIONS", "NODE_COMPILE_CACHE", "NODE_DISABLE_COMPILE_CACHE"].includes(key)) delete env[key]
}

const sample = (kind: Kind): Sample => {
  const out = path.join(os.tmpdir(), `effect-taskgraph-startup-${process.pid}.txt`)
  const t0 = performance.now()
  const child = spawnSync(timeBin, ["-f", "%M %U %S", "-o", out, ...kind.args], {
    cwd: root,
    env: { ...env, ...kind.env },
    encoding: "utf8"
  })
  const wallMs = performance.now() - t0
  if (child.status !== 0) throw new Error(`${kind.name} exited with ${child.status}: ${child.stderr}`)
  const [rssKB, user, system] = fs.readFileSync(out, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number)
  fs.rmSync(out, { force: true })
  return { wallMs, cpuMs: (user! + system!) * 1000, rssMB: rssKB! / 1024 }
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const loadBefore = os.loadavg()
// one unmeasured round warms the file cache
for (const kind of kinds) sample(kind)
const samples: Array<Array<Sample>> = kinds.map(() => [])
for (let run = 0; run < runs; run++) kinds.forEach((kind, i) => samples[i]!.push(sample(kind)))

const stats = samples.map((s) => ({
  wallMs: median(s.map((x) => x.wallMs)),
  cpuMs: median(s.map((x) => x.cpuMs)),
  rssMB: median(s.map((x) => x.rssMB))
}))
type Stat = typeof stats[0]
const [effect, taskgraph, floor, cli, npx, cacheOff, cacheOn] = stats as [Stat, Stat, Stat, Stat, Stat, Stat, Stat]
fs.rmSync(cacheTmpdir, { recursive: true, force: true })

const wallRatio = taskgraph.wallMs / effect.wallMs
const rssMore = taskgraph.rssMB - effect.rssMB
const verdict = (ok: boolean) => (ok ? "ok" : "MISSED")

const rows: ReadonlyArray<readonly [string, string, string, string]> = [
  ...kinds.map((kind, i) =>
    [
      kind.name,
      `${stats[i]!.wallMs.toFixed(0)} ms wall, ${stats[i]!.cpuMs.toFixed(0)} ms CPU, ${stats[i]!.rssMB.toFixed(1)} MB`,
      "",
      ""
    ] as const
  ),
  [`import "effect-taskgraph" / import "effect", wall`, `${wallRatio.toFixed(2)}x (CPU ${(taskgraph.cpuMs / effect.cpuMs).toFixed(2)}x)`, "<= 1.2x", verdict(wallRatio <= 1.2)],
  [`import "effect-taskgraph" - import "effect", peak RSS`, `${rssMore.toFixed(1)} MB`, "<= 15 MB", verdict(rssMore <= 15)],
  [`CLI, one-task .js graph`, `${cli.wallMs.toFixed(0)} ms, ${cli.rssMB.toFixed(1)} MB (floor ${floor.wallMs.toFixed(0)} ms, ${floor.rssMB.toFixed(1)} MB)`, "<= 500 ms, <= 110 MB", verdict(cli.wallMs <= 500 && cli.rssMB <= 110)],
  [`npx adds`, `${npx.wallMs.toFixed(0)} ms`, "(reference)", ""],
  [
    `CLI on Node 22, compile cache on / off`,
    `${cacheOn.wallMs.toFixed(0)} / ${cacheOff.wallMs.toFixed(0)} ms = ${(cacheOn.wallMs / cacheOff.wallMs).toFixed(2)}x (CPU ${
      (cacheOn.cpuMs / cacheOff.cpuMs).toFixed(2)
    }x)`,
    "(reference)",
    ""
  ]
]
console.log(["| measure (median of " + runs + " fresh processes) | value | target | |", "|---|---|---|---|", ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n"))
console.log(`\nNode ${process.version}, ${os.availableParallelism()} cores, load average before: ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`)

const result = path.join(root, "bench", "results", "startup.json")
fs.mkdirSync(path.dirname(result), { recursive: true })
fs.writeFileSync(
  result,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cores: os.availableParallelism(),
      loadAverageBefore: loadBefore,
      runs,
      kinds: kinds.map((kind, i) => ({ name: kind.name, median: stats[i], samples: samples[i] })),
      targets: { importWallRatio: 1.2, importRssMoreMB: 15, cliWallMs: 500, cliRssMB: 110 },
      met: { importWall: wallRatio <= 1.2, importRss: rssMore <= 15, cli: cli.wallMs <= 500 && cli.rssMB <= 110 }
    },
    null,
    2
  ) + "\n"
)
console.log(`wrote ${path.relative(process.cwd(), result)}`)
