/**
 * What the HTML report keeps of a run while it goes: every event except
 * output lines (few per task), and each task's output lines with their
 * time and stream, bounded: the first `head` lines and the last `tail`
 * lines of each task, with the count of those left out in between (a task
 * that prints a million lines must not make a 100 MB page; the full log is
 * what `Reporter.files` is for).
 *
 * Mutable arrays, private to this module's collector and fed one event at
 * a time by the reporter session: a copy per event would cost the run.
 *
 * @internal
 */
import type * as TaskEvent from "../../TaskEvent.js"

/**
 * One output line: time (epoch ms), where it came from, text. Where: 0 stdout, 1 stderr, 2 a
 * `Task.output` or `Effect.log` line, then a logged line's level when it is not `Info`: 3 warning,
 * 4 error (or fatal), 5 debug (or trace).
 */
export type Line = readonly [number, StreamCode, string]

/** @internal */
export type StreamCode = 0 | 1 | 2 | 3 | 4 | 5

/** @internal */
export interface TaskLines {
  readonly head: Array<Line>
  /** a ring of the last lines once `head` is full; `next` is where the oldest one is */
  readonly tail: Array<Line>
  next: number
  count: number
}

/** @internal */
export interface Collector {
  /** where each task's lines are; a task of a graph run inside a task joins when first heard of */
  readonly index: Map<string, number>
  readonly lines: Array<TaskLines>
  /** every event but output lines, in order */
  readonly events: Array<TaskEvent.TaskEvent>
  readonly head: number
  readonly tail: number
}

/** @internal */
export const make = (tasks: ReadonlyArray<string>, limits: { readonly head: number; readonly tail: number }): Collector => ({
  index: new Map(tasks.map((t, i) => [t, i])),
  lines: tasks.map(() => ({ head: [], tail: [], next: 0, count: 0 })),
  events: [],
  head: limits.head,
  tail: limits.tail
})

const streamCode = (event: TaskEvent.TaskOutput): StreamCode => {
  if (event.stream === "stdout") return 0
  if (event.stream === "stderr") return 1
  switch (event.level) {
    case "Warning":
      return 3
    case "Error":
    case "Fatal":
      return 4
    case "Debug":
    case "Trace":
      return 5
    default:
      return 2
  }
}

/** @internal */
export const add = (collector: Collector, event: TaskEvent.TaskEvent): void => {
  if (event._tag !== "TaskOutput") {
    collector.events.push(event)
    return
  }
  let i = collector.index.get(event.task)
  if (i === undefined) {
    i = collector.lines.length
    collector.index.set(event.task, i)
    collector.lines.push({ head: [], tail: [], next: 0, count: 0 })
  }
  const store = collector.lines[i]!
  const line: Line = [event.timestamp, streamCode(event), event.line]
  store.count++
  if (store.head.length < collector.head) store.head.push(line)
  else if (store.tail.length < collector.tail) store.tail.push(line)
  else if (collector.tail > 0) {
    store.tail[store.next] = line
    store.next = (store.next + 1) % collector.tail
  }
}

/** A task's kept lines in order, and how many were left out between the head and the tail. */
export const linesOf = (store: TaskLines): { readonly lines: Array<Line>; readonly omitted: number } => {
  const tail = store.tail.length === 0 ? [] : [...store.tail.slice(store.next), ...store.tail.slice(0, store.next)]
  return { lines: [...store.head, ...tail], omitted: store.count - store.head.length - tail.length }
}
