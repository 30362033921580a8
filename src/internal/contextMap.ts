/**
 * Reading and extending a `Context` by tag key, the one place that reads
 * Effect's `Context.unsafeMap`.
 *
 * The scheduler builds one context per task (the run's services plus the
 * task's dependencies, scope and hooks) and reads services by key, where it
 * has a key, not a tag. The fast path works on `unsafeMap` (a copy of the
 * run's map, then `Context.unsafeMake`); it is checked once at load time
 * (`fastPath`, pinned by test/core/internal/contextMap.test.ts) against
 * Effect's public functions. When the shape differs, the same results come
 * from `Context.getOption` with a tag made from the key and
 * `Context.merge`, slower but correct.
 *
 * @internal
 */
import { Context, Option } from "effect"

const probeKey = "effect-taskgraph/ContextMapProbe"

/** Whether `Context.unsafeMap` is the map of a context's services by key (checked at load time). @internal */
export const fastPath: boolean = (() => {
  try {
    const tag = Context.GenericTag<typeof probeKey, { readonly probe: true }>(probeKey)
    const service = { probe: true } as const
    const made = Context.make(tag, service)
    const map: unknown = made.unsafeMap
    if (!(map instanceof Map) || map.get(probeKey) !== service || map.size !== 1) return false
    // and a map handed to unsafeMake is what the public functions read
    const back = Context.unsafeMake<typeof probeKey>(new Map([[probeKey, service]]))
    return Option.getOrUndefined(Context.getOption(back, tag)) === service
  } catch {
    return false
  }
})()

/** Tags made from keys, for the fallback (making one captures a stack trace: once per key). */
const tags = new Map<string, Context.Tag<unknown, unknown>>()
const tagOf = (key: string): Context.Tag<unknown, unknown> => {
  let tag = tags.get(key)
  if (tag === undefined) {
    tag = Context.GenericTag<unknown, unknown>(key)
    tags.set(key, tag)
  }
  return tag
}

/** What the module does, either way. @internal */
export interface Ops {
  /** The service under `key`, or `undefined`. */
  readonly get: (context: Context.Context<never>, key: string) => unknown
  /** Whether `context` has a service under `key`. */
  readonly has: (context: Context.Context<never>, key: string) => boolean
  /** Entries to add to `base`: set them on the returned map, then `build`. */
  readonly extend: (base: Context.Context<never>) => Map<string, unknown>
  /** `base` with the entries of a map from `extend(base)`. */
  readonly build: (base: Context.Context<never>, entries: Map<string, unknown>) => Context.Context<never>
}

/** On `unsafeMap`: `extend` copies `base`'s map, so `build` only wraps it. @internal */
export const fast: Ops = {
  get: (context, key) => context.unsafeMap.get(key),
  has: (context, key) => context.unsafeMap.has(key),
  // an empty base (a plain `Effect.runPromise`) skips the copy constructor's iteration: ~0.1 µs a task
  extend: (base) => base.unsafeMap.size === 0 ? new Map() : new Map(base.unsafeMap),
  build: (_base, entries) => Context.unsafeMake<never>(entries)
}

/** On Effect's public functions only (a tag per key, `Context.merge`). @internal */
export const safe: Ops = {
  get: (context, key) => Option.getOrUndefined(Context.getOption(context, tagOf(key))),
  has: (context, key) => Option.isSome(Context.getOption(context, tagOf(key))),
  extend: () => new Map(),
  build: (base, entries) => Context.merge(base, Context.unsafeMake<never>(entries))
}

const ops = fastPath ? fast : safe

/** @internal */
export const get: Ops["get"] = ops.get
/** @internal */
export const has: Ops["has"] = ops.has
/** @internal */
export const extend: Ops["extend"] = ops.extend
/** @internal */
export const build: Ops["build"] = ops.build
