/**
 * The Hono example's page in a real browser: Debian's Chromium, headless,
 * driven by playwright-core (no bundled browser download). It loads `/`,
 * searches, and reads the results list. The screenshot lands in test-output/.
 *
 * Chromium must be installed (`apt-get install -y chromium`); CHROMIUM_PATH
 * overrides /usr/bin/chromium. A missing browser fails the test, loudly.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type ExampleServer, REPO_ROOT, RUNTIME, startExample } from "./fixtures/hono-server.ts";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const OUTPUT_DIR = join(REPO_ROOT, "test-output");
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

interface Hit {
  title: string;
  score: string;
}

async function search(page: Page, query: string, metric: string): Promise<{ hits: Hit[]; status: string }> {
  await page.fill("#q", query);
  await page.selectOption("#metric", metric);
  await page.click("button[type=submit]");
  await page.waitForFunction(() => /results, best first/.test(document.getElementById("status")?.textContent ?? ""));
  const hits = await page.$$eval("#results li", (items) =>
    items.map((li) => ({
      title: li.querySelector(".title")?.textContent ?? "",
      score: li.querySelector(".score")?.textContent ?? "",
    })));
  return { hits, status: (await page.textContent("#status")) ?? "" };
}

describe(`Hono example in headless Chromium (tests on ${RUNTIME})`, () => {
  let server: ExampleServer | undefined;
  let context: BrowserContext | undefined;
  const profile = mkdtempSync(join(tmpdir(), "irisql-chromium-"));

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium is not installed at ${CHROMIUM}: run "apt-get install -y chromium" (or set CHROMIUM_PATH)`,
    );
    server = await startExample({ DATABASE_URL: "pglite://memory" });
    // A fresh profile per run: nothing from an earlier run can leak in.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1000, height: 760 },
    });
  });

  after(async () => {
    await context?.close();
    await server?.stop();
    rmSync(profile, { recursive: true, force: true });
  });

  it("loads /, searches, and shows results best first with their scores", async () => {
    const page = await context!.newPage();
    const response = await page.goto(server!.url + "/");
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), "irisql document search");

    const { hits, status } = await search(page, "baking bread", "cosine");
    assert.equal(status, "5 results, best first (cosine)");
    assert.equal(hits.length, 5);
    assert.equal(hits[0].title, "Baking sourdough bread");
    const scores = hits.map((h) => {
      assert.match(h.score, /^score -?\d\.\d{4}$/);
      return Number(h.score.slice("score ".length));
    });
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
    assert.equal(scores[0], 0.2645);

    mkdirSync(OUTPUT_DIR, { recursive: true });
    const shot = join(OUTPUT_DIR, `hono-browser-${RUNTIME}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, `the screenshot ${shot} looks empty`);
  });

  it("with l2 shows distances, lowest first", async () => {
    const page = await context!.newPage();
    await page.goto(server!.url + "/");
    const { hits, status } = await search(page, "mountain weather", "l2");
    assert.equal(status, "5 results, best first (l2)");
    assert.equal(hits[0].title, "Hiking in the Alps");
    const distances = hits.map((h) => {
      assert.match(h.score, /^distance \d\.\d{4}$/);
      return Number(h.score.slice("distance ".length));
    });
    assert.deepEqual(distances, [...distances].sort((a, b) => a - b));
  });
});
