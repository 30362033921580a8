/**
 * Remote runs on a cluster of real runner processes (`src/bin.ts runner
 * FILE --store postgres://… --listen HOST:PORT`) over a private PostgreSQL
 * server, submitted with `run FILE --run-id ID --store postgres://…
 * --remote`. What ran, and where, is counted by side effects on disk: each
 * task appends `NAME PID` to ran.log when it really runs, and each `bN`
 * writes `running-bN.PID` when it starts (test/fixtures/durable/cluster.ts).
 * Every process started here is killed at the end, also on failure.
 */
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ranCounts, ranLines, start as startCli } from "./helpers/cli.js"
import { freePort, type Postgres, startPostgres } from "./helpers/postgres.js"

const fixture = "test/fixtures/durable/cluster.ts"
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-cluster-"))

const children = new Set<ChildProcess>()
const killAll = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
}

let pg: Postgres | undefined
beforeAll(async () => {
  pg = await startPostgres()
}, 120_000)
afterAll(async () => {
  killAll()
  await pg?.stop()
  fs.rmSync(tmp, { recursive: true, force: true })
}, 60_000)

const start = (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const started = startCli(args, env, 600_000)
  children.add(started.child)
  return started
}

const cli = (args: ReadonlyArray<string>, env: Record<string, string>) => start(args, env).done

/** Resolves once `check` holds, looking again whenever a file in `dir` changes. */
const until = (dir: string, check: () => boolean) =>
  new Promise<void>((resolve) => {
    if (check()) return resolve()
    const watcher = fs.watch(dir, () => {
      if (check()) {
        watcher.close()
        resolve()
      }
    })
  })

interface Runner {
  readonly pid: number
  readonly address: string
  readonly child: ChildProcess
  readonly stdout: () => string
}

/** Starts a runner and resolves once it says it has joined the cluster. */
const startRunner = async (env: Record<string, string>): Promise<Runner> => {
  const port = await freePort()
  const address = `127.0.0.1:${port}`
  const r = start(["runner", fixture, "--store", pg!.url, "--listen", address], env)
  await new Promise<void>((resolve, reject) => {
    r.child.stdout!.on("data", () => {
      if (r.stdout().includes(" ready on ")) resolve()
    })
    void r.done.then((res) => reject(new Error(`runner ${address} exited: ${res.stdout}${res.stderr}`)))
  })
  return { pid: r.child.pid!, address, child: r.child, stdout: r.stdout }
}

/** The pids that started each `bN` (one per start). */
const starts = (dir: string): Record<string, Array<number>> => {
  const found: Record<string, Array<number>> = {}
  for (const file of fs.readdirSync(dir)) {
    const m = /^running-(b\d)\.(\d+)$/.exec(file)
    if (m !== null) (found[m[1]!] ??= []).push(Number(m[2]))
  }
  return found
}
const workspace = (name: string) => {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir)
  return dir
}
const once = (names: ReadonlyArray<string>) => Object.fromEntries(names.map((n) => [n, 1]))
const everyTask = ["a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2", "b3", "b4", "b5", "b6", "sum"]

describe("remote runs on runner processes (PostgreSQL)", () => {
  // first: no runner has ever joined this store yet
  it("--remote with no runner up: a clear message after the bounded wait, exit 1, nothing ran", async () => {
    const dir = workspace("no-runner")
    const r = await cli(
      ["run", fixture, "--run-id", "lonely", "--store", pg!.url, "--remote", "--wait-for-runners", "2"],
      { OUT: dir }
    )
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stderr).toContain(`error: no runner is up in ${pg!.url} (waited 2s): start one or more with`)
    expect(r.stderr).toContain("effect-taskgraph runner FILE --store")
    expect(ranLines(dir)).toEqual([])
  }, 120_000)

  it("bad input: --remote without a PostgreSQL store, a runner on sqlite or a bad --listen (exit 2), a runner whose server is down or whose --listen port is taken (exit 1)", async () => {
    const dir = workspace("bad-input")
    const noStore = await cli(["run", fixture, "--run-id", "x", "--remote"], { OUT: dir })
    expect(noStore.code).toBe(2)
    expect(noStore.stderr).toContain("error: --remote needs --run-id ID and --store postgres://…")
    const sqlite = await cli(["run", fixture, "--run-id", "x", "--remote", "--store", path.join(dir, "runs.db")], { OUT: dir })
    expect(sqlite.code).toBe(2)
    expect(sqlite.stderr).toContain("error: a remote run needs a PostgreSQL store (--store postgres://…)")
    const runner = await cli(["runner", fixture, "--store", path.join(dir, "runs.db"), "--listen", "127.0.0.1:1"], { OUT: dir })
    expect(runner.code).toBe(2)
    expect(runner.stderr).toContain("error: a runner needs a PostgreSQL store (--store postgres://…)")
    const listen = await cli(["runner", fixture, "--store", pg!.url, "--listen", "nowhere"], { OUT: dir })
    expect(listen.code).toBe(2)
    expect(listen.stderr).toContain("error: --listen must be HOST:PORT, not nowhere")
    const down = `postgres://postgres:secret@127.0.0.1:${pg!.port + 1}/postgres`
    const dead = await cli(["runner", fixture, "--store", down, "--listen", `127.0.0.1:${await freePort()}`], { OUT: dir })
    expect(dead.code, dead.stdout + dead.stderr).toBe(1)
    expect(dead.stderr).toContain(`error: the durable store postgres://postgres:***@127.0.0.1:${pg!.port + 1}/postgres cannot be opened`)
    expect(dead.stderr).not.toContain("secret")
    // --listen on a port another process holds: the runner says so (not that the store failed)
    const holder = net.createServer()
    const held = await new Promise<number>((resolve) =>
      holder.listen(0, "127.0.0.1", () => resolve((holder.address() as net.AddressInfo).port))
    )
    try {
      const taken = await cli(["runner", fixture, "--store", pg!.url, "--listen", `127.0.0.1:${held}`], { OUT: dir })
      expect(taken.code, taken.stdout + taken.stderr).toBe(1)
      expect(taken.stderr).toContain(`error: the runner cannot listen on 127.0.0.1:${held} (--listen): listen EADDRINUSE`)
      expect(taken.stderr).toContain("start the runner with another --listen HOST:PORT")
      expect(taken.stderr).not.toContain("cannot be opened")
    } finally {
      holder.close()
    }
    expect(ranLines(dir)).toEqual([])
  }, 120_000)

  describe("with 3 runners", () => {
    const dir = path.join(tmp, "cluster")
    let runners: Array<Runner> = []
    beforeAll(async () => {
      fs.mkdirSync(dir)
      runners = await Promise.all([1, 2, 3].map(() => startRunner({ OUT: dir })))
      // the shards settled: every runner holds its share (a shard moving mid-task would run that task twice)
      const held = () =>
        pg!.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted GROUP BY pid")
          .split("\n").filter((l) => l !== "").map(Number)
      while (!(held().length === 3 && held().reduce((a, b) => a + b, 0) === 300)) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }, 120_000)
    afterAll(() => killAll())

    it("a runner SIGKILLed mid-run: the run completes on the others, nothing that had succeeded runs again, the report says where and what ran twice", async () => {
      const args = ["run", fixture, "--run-id", "r1", "--store", pg!.url, "--remote"]
      const submit = start(args, { OUT: dir })
      // every bN has started: every aN had succeeded before the kill
      await until(dir, () => Object.keys(starts(dir)).length === 6)
      const [task, [pid]] = Object.entries(starts(dir))[0]!
      const victim = runners.find((r) => r.pid === pid)!
      const onVictim = Object.entries(starts(dir)).filter(([, pids]) => pids[0] === pid).map(([name]) => name)
      expect(onVictim).toContain(task)
      victim.child.kill("SIGKILL")
      fs.writeFileSync(path.join(dir, "go"), "")
      const r = await submit.done
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toContain("[sum] sum is 210")
      expect(r.stdout).toContain("[sum] WARN summed 6 values")
      // the runner that ran it printed that line too, with the task's name
      const sumOn = /\[sum\] ran on runner (127\.0\.0\.1:\d+)\//.exec(r.stdout)![1]
      const runnerOut = runners.find((x) => x.address === sumOn)!.stdout()
      expect(runnerOut).toMatch(/ WARN \(#\d+\): summed 6 values\n {2}task: sum\n/)
      // the victim's bN never got past their start: each ran to its end exactly once, elsewhere
      expect(ranCounts(dir)).toEqual(once(everyTask))
      for (const line of ranLines(dir)) {
        if (line.startsWith("b") && onVictim.includes(line.split(" ")[0]!)) expect(line).not.toContain(String(pid))
      }
      for (const [name, pids] of Object.entries(starts(dir))) {
        expect(pids.length, name).toBe(onVictim.includes(name) ? 2 : 1)
      }
      for (const name of everyTask) expect(r.stdout).toMatch(new RegExp(`\\[${name}\\] ran on runner 127\\.0\\.0\\.1:\\d+/pid \\d+`))
      for (const name of onVictim) {
        expect(r.stdout).toContain(`[${name}] ran again: runner ${victim.address}/pid ${pid} died while running it`)
      }
      expect(r.stdout.match(/ran again: /g)?.length).toBe(onVictim.length)

      // the same run id again: every task comes back from the store, nothing runs
      const again = await cli(args, { OUT: dir })
      expect(again.code, again.stdout + again.stderr).toBe(0)
      for (const name of everyTask) expect(again.stdout).toContain(`[${name}] restored from ${pg!.url} (run r1, attempt 1, ran on runner `)
      expect(ranCounts(dir)).toEqual(once(everyTask))
    }, 300_000)

    it("a changed graph is refused: by the submitter for a stored run, by the runners for a new one", async () => {
      const before = ranLines(dir).length
      const stored = await cli(["run", fixture, "--run-id", "r1", "--store", pg!.url, "--remote"], { OUT: dir, EXTRA: "1" })
      expect(stored.code, stored.stdout + stored.stderr).toBe(1)
      expect(stored.stderr).toContain(`error: run "r1" in ${pg!.url} was started with a graph of another shape than "cluster fixture"`)
      const fresh = await cli(["run", fixture, "--run-id", "r2", "--store", pg!.url, "--remote"], { OUT: dir, EXTRA: "1" })
      expect(fresh.code, fresh.stdout + fresh.stderr).toBe(1)
      expect(fresh.stdout).toMatch(/has graph "cluster fixture" of another shape than the run was started with/)
      expect(ranLines(dir).length).toBe(before)
    }, 300_000)
  })
})

describe("remote runs of a graph with a resource group", () => {
  const groupFixture = "test/fixtures/durable/cluster-group.ts"
  it("the group (a scoped server and its clients) runs as one unit on one runner, in release order; again: restored", async () => {
    const dir = workspace("group")
    const started = await Promise.all([1, 2].map(async () => {
      const address = `127.0.0.1:${await freePort()}`
      const r = start(["runner", groupFixture, "--store", pg!.url, "--listen", address], { OUT: dir })
      await new Promise<void>((resolve, reject) => {
        r.child.stdout!.on("data", () => r.stdout().includes(" ready on ") && resolve())
        void r.done.then((res) => reject(new Error(`runner ${address} exited: ${res.stdout}${res.stderr}`)))
      })
      return r.child
    }))
    try {
      const args = ["run", groupFixture, "--run-id", "g1", "--store", pg!.url, "--remote"]
      const r = await cli(args, { OUT: dir })
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toContain("[server] ran its resource group (server, client 1, client 2) as one unit on runner ")
      expect(r.stdout).toContain("[client 1] client 1 talked to http://127.0.0.1:8080")
      expect(r.stdout).toContain(`[client 2] ran in the resource group of "server"`)
      const lines = ranLines(dir)
      const steps = lines.map((l) => l.slice(0, l.lastIndexOf(" ")))
      expect(new Set(steps)).toEqual(new Set(["config", "server up", "client 1", "client 2", "server down", "report"]))
      // one runner ran the whole group, the server released after both clients
      const group = lines.filter((l) => /^(server|client)/.test(l))
      expect(new Set(group.map((l) => l.split(" ").pop())).size).toBe(1)
      expect(steps.indexOf("server up")).toBeLessThan(steps.indexOf("client 1"))
      expect(steps.indexOf("server down")).toBeGreaterThan(Math.max(steps.indexOf("client 1"), steps.indexOf("client 2")))

      const again = await cli(args, { OUT: dir })
      expect(again.code, again.stdout + again.stderr).toBe(0)
      expect(again.stdout).toContain(`[server] restored from ${pg!.url} (run g1, attempt 1, ran on runner `)
      expect(ranLines(dir)).toEqual(lines)
    } finally {
      for (const child of started) child.kill("SIGKILL")
    }
  }, 300_000)
})
