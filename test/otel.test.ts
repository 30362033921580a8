/**
 * Task spans reach a real OpenTelemetry exporter: @effect/opentelemetry's
 * NodeSdk layer with the SDK's in-memory span exporter.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { describe, expect, it } from "@effect/vitest"
import { SpanStatusCode } from "@opentelemetry/api"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import type { HrTime } from "@opentelemetry/api"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Either, Option, Schedule, Schema } from "effect"
import { RunReport, Task, TaskGraph } from "effect-taskgraph"
import { Durable } from "effect-taskgraph/durable"

const ms = (t: HrTime) => t[0] * 1000 + t[1] / 1e6

/** The SDK's in-memory exporter, except that shutting the SDK down (the layer's end) keeps what it received. */
class KeptSpans extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return Promise.resolve()
  }
}

describe("OpenTelemetry export", () => {
  it.live("one span per task that ran: child of the caller's span, named after it, with graph, status, attempts and the report's times", () => {
    const exporter = new KeptSpans()
    const tracing = NodeSdk.layer(() => ({
      resource: { serviceName: "taskgraph-test" },
      spanProcessor: new SimpleSpanProcessor(exporter)
    }))
    let calls = 0
    const build = Task.make("build", { run: Effect.sleep("10 millis") })
    const flaky = Task.make("flaky test", {
      after: [build],
      retry: Schedule.recurs(2),
      run: Effect.suspend(() => (++calls < 2 ? Effect.fail(new Error("first try fails")) : Effect.sleep("5 millis")))
    })
    const broken = Task.make("broken test", { after: [build], run: Effect.fail(new Error("expected 4, got 5")) })
    const publish = Task.make("publish", { after: [broken], run: Effect.void })
    const graph = TaskGraph.make("traced", [build, flaky, broken, publish])

    return TaskGraph.run(graph, { mode: "continue" }).pipe(
      Effect.either,
      Effect.withSpan("caller"),
      // when the layer's scope closes, the SDK flushes every span to the exporter
      Effect.provide(tracing),
      Effect.map((result) => {
        expect(Either.isLeft(result)).toBe(true)
        const report = Either.isLeft(result) && result.left._tag === "RunFailedError" ? result.left.report : undefined
        expect(report).toBeDefined()
        const spans = exporter.getFinishedSpans()
        const caller = spans.find((s) => s.name === "caller")!
        expect(caller).toBeDefined()
        const taskSpans = spans.filter((s) => s !== caller)
        // "publish" was skipped: it never ran, so it has no span
        expect(taskSpans.map((s) => s.name).sort()).toEqual(["broken test", "build", "flaky test"])
        for (const span of taskSpans) {
          expect(span.parentSpanContext?.spanId).toBe(caller.spanContext().spanId)
          expect(span.spanContext().traceId).toBe(caller.spanContext().traceId)
          expect(span.attributes["taskgraph.graph"]).toBe("traced")
          const t = Option.getOrThrow(RunReport.task(report!, span.name))
          expect(span.attributes["taskgraph.status"]).toBe(t.status === "released" ? "ready" : t.status)
          expect(span.attributes["taskgraph.attempts"]).toBe(t.attempts)
          // the span covers the task's run phase, as the report measured it (same clock; within a millisecond)
          const start = Option.getOrThrow(t.startedAt)
          const end = Option.getOrThrow(Option.orElse(t.readyAt, () => t.endedAt))
          expect(Math.abs(ms(span.startTime) - start)).toBeLessThanOrEqual(1)
          expect(Math.abs(ms(span.endTime) - end)).toBeLessThanOrEqual(1)
        }
        const byName = (name: string) => taskSpans.find((s) => s.name === name)!
        expect(byName("build").status.code).toBe(SpanStatusCode.OK)
        expect(byName("flaky test").attributes["taskgraph.attempts"]).toBe(2)
        expect(byName("flaky test").status.code).toBe(SpanStatusCode.OK)
        const failed = byName("broken test")
        expect(failed.status.code).toBe(SpanStatusCode.ERROR)
        expect(failed.status.message).toBe("expected 4, got 5")
        expect(failed.attributes["taskgraph.status"]).toBe("failed")
        expect(failed.events.some((e) => e.name === "exception")).toBe(true)
      })
    )
  })

  it.live("a durable run resumed: a restored task's span says it was restored, a task that ran again does not", () => {
    const exporter = new KeptSpans()
    const tracing = NodeSdk.layer(() => ({
      resource: { serviceName: "taskgraph-test" },
      spanProcessor: new SimpleSpanProcessor(exporter)
    }))
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-otel-durable-"))
    let fail = true
    const fetch = Task.make("fetch", { schema: Schema.Number, run: Effect.succeed(3) })
    const build = Task.make("build", {
      after: [fetch],
      run: Effect.suspend(() => (fail ? Effect.fail(new Error("first try fails")) : Effect.void))
    })
    const graph = TaskGraph.make("resumed", [fetch, build])
    const run = Durable.run(graph, { runId: "r1" }).pipe(Effect.provide(Durable.layerSqlite(path.join(dir, "runs.db"))))
    return Effect.gen(function*() {
      expect(Either.isLeft(yield* Effect.either(run))).toBe(true)
      fail = false
      yield* run
    }).pipe(
      Effect.provide(tracing),
      Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))),
      Effect.map(() => {
        const spans = exporter.getFinishedSpans().filter((s) => s.attributes["taskgraph.graph"] === "resumed")
        const of = (name: string) => spans.filter((s) => s.name === name)
        // first run: both ran; second run: fetch restored, build ran again
        expect(of("fetch").map((s) => s.attributes["taskgraph.restored"])).toEqual([undefined, true])
        expect(of("fetch")[1]!.attributes["taskgraph.restored.attempt"]).toBe(1)
        expect(of("build").map((s) => s.attributes["taskgraph.restored"])).toEqual([undefined, undefined])
      })
    )
  })
})
