/**
 * Saying what an error is, in messages, events and reports — without ever
 * throwing. A task can fail with anything: a circular object (an HTTP
 * client's error that points back at its request), a value holding a
 * `bigint`, an Effect error whose `message` is empty. `JSON.stringify` throws
 * on the first two and `Cause.pretty` on a `bigint`; where the scheduler
 * renders a failure outside any fiber, a throw there would take the process
 * down and hide the failure it was describing.
 *
 * @internal
 */
import { Cause } from "effect"

/** JSON with circular references as `"[Circular]"` and bigints as `"12n"`; never throws. */
export const safeJson = (u: unknown): string => {
  try {
    const seen = new WeakSet<object>()
    const text = JSON.stringify(u, (_key, value: unknown) => {
      if (typeof value === "bigint") return `${value}n`
      if (typeof value === "object" && value !== null) {
        if (seen.has(value)) return "[Circular]"
        seen.add(value)
      }
      return value
    })
    return text ?? String(u)
  } catch {
    // a getter or a toJSON that throws
    try {
      return String(u)
    } catch {
      return "(a value that cannot be printed)"
    }
  }
}

const tagOf = (u: object): string | undefined => {
  const tag = (u as { readonly _tag?: unknown })._tag
  return typeof tag === "string" && tag !== "" ? tag : undefined
}

/** The fields a person would want to see: own enumerable ones, without Effect's and Error's plumbing. */
const fieldsOf = (u: object): string => {
  const fields: Record<string, unknown> = {}
  let any = false
  for (const key of Object.keys(u)) {
    if (key === "_tag" || key === "stack" || key === "message") continue
    fields[key] = (u as Record<string, unknown>)[key]
    any = true
  }
  return any ? ` ${safeJson(fields)}` : ""
}

/**
 * One line (or more, when the message has them) saying what `error` is:
 * - an `Error` with a message: the message; a tagged error whose message is
 *   only its fields (`Schema.TaggedError`'s default) gets its tag in front;
 * - an `Error` with an empty message (`Data.TaggedError` without a message,
 *   `NoSuchElementException`): its tag or name, then its fields;
 * - a string: itself; a tagged object: its tag and fields; anything else: JSON.
 */
export const errorText = (error: unknown): string => {
  try {
    if (typeof error === "string") return error
    if (error instanceof Error) {
      const message = error.message
      const tag = tagOf(error)
      if (message !== "") return tag !== undefined && message.startsWith("{") ? `${tag} ${message}` : message
      return `${tag ?? error.name}${fieldsOf(error)}`
    }
    if (typeof error === "object" && error !== null) {
      const tag = tagOf(error)
      if (tag !== undefined) return `${tag}${fieldsOf(error)}`
    }
    return safeJson(error)
  } catch {
    return safeJson(error)
  }
}

/** `Cause.pretty`, or what the cause squashes to when rendering it throws (a `bigint` in the error). */
export const prettyCause = (cause: Cause.Cause<unknown>): string => {
  try {
    return Cause.pretty(cause)
  } catch {
    return errorText(Cause.squash(cause))
  }
}
