#!/usr/bin/env node
// `npx effect-taskgraph run FILE.ts …`: registers tsx's loader in this very
// process (no re-exec: signals reach the runner directly), so that FILE and
// the library's own TypeScript sources load, then hands over to the CLI.
import { register } from "tsx/esm/api"

register()
const { main } = await import("../src/Cli.ts")
main(process.argv)
