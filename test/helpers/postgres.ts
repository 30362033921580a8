/**
 * A private PostgreSQL server for one test file: its own data directory
 * under a temp dir, run as `nobody` (PostgreSQL refuses to run as root) with
 * `setpriv`, listening on 127.0.0.1 on a free port, trust auth. `stop`
 * always stops it (fast shutdown, then SIGKILL) and removes the directory.
 * The binaries come from scripts/ensure-postgres.sh (Debian's package).
 */
import * as cp from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

const repo = path.resolve(import.meta.dirname, "../..")

export interface Postgres {
  readonly url: string
  readonly port: number
  readonly stop: () => Promise<void>
  /** Runs one SQL statement with psql (on `database`, a URL, else `url`); its rows, one a line, fields separated by `|`. */
  readonly query: (sql: string, database?: string) => string
  /** The psql binary, for a session a test keeps open. */
  readonly psql: string
}

/** A TCP port nothing listens on at the moment, on 127.0.0.1. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const asNobody = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]

export const startPostgres = async (): Promise<Postgres> => {
  const bin = cp.execFileSync("bash", [path.join(repo, "scripts/ensure-postgres.sh"), "-v"], { encoding: "utf8" }).trim()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-pg-"))
  const data = path.join(dir, "data")
  const remove = () => fs.rmSync(dir, { recursive: true, force: true })
  try {
    fs.chmodSync(dir, 0o755)
    fs.chownSync(dir, 65534, 65534)
    cp.execFileSync("setpriv", [...asNobody, path.join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"], {
      stdio: "ignore"
    })
  } catch (error) {
    remove()
    throw error
  }
  const port = await freePort()
  const child = cp.spawn("setpriv", [
    ...asNobody,
    path.join(bin, "postgres"),
    "-D", data, "-k", dir, "-h", "127.0.0.1", "-p", String(port),
    "-c", "fsync=off", "-c", "max_connections=200"
  ], { stdio: ["ignore", "pipe", "pipe"] })
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()))
  let log = ""
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT") // fast shutdown
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
      await exited
      clearTimeout(timer)
    }
    remove()
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString()
        if (log.includes("database system is ready to accept connections")) resolve()
      }
      child.stdout!.on("data", onData)
      child.stderr!.on("data", onData)
      void exited.then(() => reject(new Error(`postgres exited before it was ready:\n${log}`)))
    })
  } catch (error) {
    await stop()
    throw error
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const psql = path.join(bin, "psql")
  const query = (sql: string, database = url) => cp.execFileSync(psql, [database, "-Atc", sql], { encoding: "utf8" })
  return { url, port, stop, query, psql }
}
