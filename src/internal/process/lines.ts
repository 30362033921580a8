/**
 * Splits a byte stream into lines: UTF-8 decoded across chunk boundaries,
 * split on "\n", one trailing "\r" removed (CRLF output), and the last line
 * kept even when it has no newline.
 *
 * @internal
 */
import { StringDecoder } from "node:string_decoder"

/** @internal */
export interface LineSplitter {
  /** The complete lines this chunk finishes (the rest waits for more bytes). */
  readonly push: (chunk: Uint8Array) => Array<string>
  /** The partial last line, if the stream ended without a newline. */
  readonly end: () => Array<string>
}

const stripCr = (line: string): string => line.endsWith("\r") ? line.slice(0, -1) : line

/** @internal */
export const makeLineSplitter = (): LineSplitter => {
  const decoder = new StringDecoder("utf8")
  // The pieces of the current, unfinished line: only new text is searched for
  // newlines, so a very long line costs linear time.
  let partial: Array<string> = []
  return {
    push: (chunk) => {
      const text = decoder.write(chunk as Buffer)
      const first = text.indexOf("\n")
      if (first === -1) {
        if (text !== "") partial.push(text)
        return []
      }
      partial.push(text.slice(0, first))
      const lines = [partial.join("")]
      partial = []
      let start = first + 1
      let next = text.indexOf("\n", start)
      while (next !== -1) {
        lines.push(text.slice(start, next))
        start = next + 1
        next = text.indexOf("\n", start)
      }
      if (start < text.length) partial.push(text.slice(start))
      return lines.map(stripCr)
    },
    end: () => {
      partial.push(decoder.end())
      const rest = partial.join("")
      partial = []
      return rest === "" ? [] : [stripCr(rest)]
    }
  }
}

/**
 * A ring of the last `size` lines.
 *
 * @internal
 */
export interface Tail {
  readonly add: (line: string) => void
  readonly lines: () => ReadonlyArray<string>
}

/** @internal */
export const makeTail = (size: number): Tail => {
  const ring: Array<string> = []
  let next = 0
  return {
    add: (line) => {
      if (size <= 0) return
      if (ring.length < size) ring.push(line)
      else ring[next] = line
      next = (next + 1) % size
    },
    lines: () => ring.length < size ? ring.slice() : [...ring.slice(next), ...ring.slice(0, next)]
  }
}
