/**
 * Headless Chromium for the browser tests: Debian's `/usr/bin/chromium`
 * (installed by scripts/ensure-chromium.sh, from `pretest`), driven by
 * playwright-core; a fresh profile per launch; nothing is downloaded.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { BrowserContext, Page } from "playwright-core"
import { chromium } from "playwright-core"

export const executablePath = "/usr/bin/chromium"

const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

export interface Browser {
  readonly context: BrowserContext
  readonly close: () => Promise<void>
}

/** Launches Chromium with a fresh user-data-dir, removed on close. */
export const launch = async (): Promise<Browser> => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args,
    viewport: { width: 1440, height: 900 }
  })
  return {
    context,
    close: async () => {
      await context.close()
      fs.rmSync(profile, { recursive: true, force: true })
    }
  }
}

/** What a page did while it loaded: console errors, page errors, requests for anything but the file itself. */
export interface Watched {
  readonly page: Page
  readonly errors: Array<string>
  readonly requests: Array<string>
}

/** Opens a file in a new page, recording console errors and every request other than the file. */
export const open = async (browser: Browser, file: string): Promise<Watched> => {
  const page = await browser.context.newPage()
  const errors: Array<string> = []
  const requests: Array<string> = []
  const url = `file://${path.resolve(file)}`
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text())
  })
  page.on("pageerror", (e) => errors.push(e.message))
  page.on("request", (r) => {
    if (r.url() !== url) requests.push(r.url())
  })
  await page.route("**/*", (route) => (route.request().url() === url ? route.continue() : route.abort()))
  await page.goto(url)
  await page.waitForSelector("html[data-ready=true]")
  return { page, errors, requests }
}
