/**
 * The worker thread of examples/images.ts: digests one file per request
 * (sha256 of the content, then gzip -9 next to it). CPU-bound: it runs on a
 * WorkerPool so the main thread (the graph, the progress lines, Ctrl+C) stays
 * responsive.
 */
import { Effect, Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import { threadId } from "node:worker_threads"
import * as zlib from "node:zlib"
import { WorkerThread } from "effect-taskgraph/workers"

/** Digest one file: its sha256, and its gzip -9 copy written to `gzipPath`. */
export class Digest extends Schema.TaggedRequest<Digest>()("Digest", {
  failure: Schema.Never,
  success: Schema.Struct({
    bytes: Schema.Number,
    sha256: Schema.String,
    gzipBytes: Schema.Number,
    millis: Schema.Number
  }),
  payload: { path: Schema.String, gzipPath: Schema.String }
}) {}

/** Requests this thread has served. */
let served = 0

// The same module is imported by the main thread (for the Digest class):
// serve only inside a worker thread.
if (WorkerThread.isWorkerThread) {
  WorkerThread.serve(Digest, {
    Digest: ({ gzipPath, path }) =>
      Effect.sync(() => {
        const t0 = performance.now()
        const data = fs.readFileSync(path)
        const sha256 = createHash("sha256").update(data).digest("hex")
        const gzipped = zlib.gzipSync(data, { level: 9 })
        fs.writeFileSync(gzipPath, gzipped)
        return { bytes: data.length, sha256, gzipBytes: gzipped.length, millis: performance.now() - t0 }
      }).pipe(
        // logged in this thread, shown by the main thread as the calling task's output ("[digest files] …")
        Effect.tap(() => (served++ === 0 ? Effect.log(`worker thread ${threadId}: first file done`) : Effect.void))
      )
  }).pipe(WorkerThread.launch)
}
