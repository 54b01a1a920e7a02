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

async function readResults(page: Page): Promise<{ hits: Hit[]; status: string }> {
  const hits = await page.$$eval("#results li", (items) =>
    items.map((li) => ({
      title: li.querySelector(".title")?.textContent ?? "",
      score: li.querySelector(".score")?.textContent ?? "",
    })));
  return { hits, status: (await page.textContent("#status")) ?? "" };
}

/** Type a search into the form and send it, as a person would: the browser goes to /?q=…&k=…&metric=…. */
async function search(page: Page, query: string, metric: string, k?: number): Promise<{ hits: Hit[]; status: string }> {
  await page.fill("#q", query);
  if (k !== undefined) await page.fill("#k", String(k));
  await page.selectOption("#metric", metric);
  await Promise.all([page.waitForURL(/\?q=/), page.click("#search button[type=submit]")]);
  return await readResults(page);
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
    assert.equal(await page.inputValue("#k"), "5");

    const { hits, status } = await search(page, "baking bread", "cosine");
    assert.equal(status, "5 results, best first (cosine)");
    const url = new URL(page.url());
    assert.deepEqual([url.pathname, url.searchParams.get("q"), url.searchParams.get("metric")], [
      "/",
      "baking bread",
      "cosine",
    ]);
    assert.equal(hits.length, 5);
    assert.equal(hits[0]!.title, "Baking sourdough bread");
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
    assert.equal(hits[0]!.title, "Hiking in the Alps");
    const distances = hits.map((h) => {
      assert.match(h.score, /^distance \d\.\d{4}$/);
      return Number(h.score.slice("distance ".length));
    });
    assert.deepEqual(distances, [...distances].sort((a, b) => a - b));
  });

  it("a search is a link: opening /?q=…&k=…&metric=… shows its results, and the form keeps them", async () => {
    const page = await context!.newPage();
    const response = await page.goto(server!.url + "/?q=vector+search+database&k=3&metric=dot");
    assert.equal(response?.status(), 200);
    const { hits, status } = await readResults(page);
    assert.equal(status, "3 results, best first (dot)");
    assert.equal(hits.length, 3);
    assert.equal(hits[0]!.title, "Vector search in InterSystems IRIS");
    assert.equal(await page.inputValue("#q"), "vector search database");
    assert.equal(await page.inputValue("#k"), "3");
    assert.equal(await page.inputValue("#metric"), "dot");
    assert.equal(await page.title(), "vector search database – irisql document search");
    // The result titles link to the documents.
    const href = await page.getAttribute("#results li a.title", "href");
    assert.match(href ?? "", /^\/docs\/\d+$/);
  });

  it("the k control sets how many results come back", async () => {
    const page = await context!.newPage();
    await page.goto(server!.url + "/");
    const { hits, status } = await search(page, "coffee", "cosine", 2);
    assert.equal(status, "2 results, best first (cosine)");
    assert.equal(hits.length, 2);
    assert.equal(new URL(page.url()).searchParams.get("k"), "2");
  });

  it("adds a document with the form, and a search finds it first", async () => {
    const page = await context!.newPage();
    await page.goto(server!.url + "/");
    await page.fill("#title", "Pickled walnuts from the orchard");
    await page.fill("#body", "Green walnuts, brine, malt vinegar and patience: pickled walnuts take months.");
    await page.click("#add button[type=submit]");
    await page.waitForFunction(() => /^Added document \d+/.test(document.getElementById("added")?.textContent ?? ""));
    assert.match((await page.textContent("#added")) ?? "", /^Added document \d+: Pickled walnuts from the orchard$/);
    assert.equal(await page.inputValue("#title"), "", "the form is cleared after adding");

    const { hits } = await search(page, "pickled walnuts", "cosine", 3);
    assert.equal(hits[0]!.title, "Pickled walnuts from the orchard");

    // A refused document says why, on the page.
    await page.fill("#title", "Pickled walnuts from the orchard");
    await page.click("#add button[type=submit]");
    await page.waitForFunction(() => /^Could not add/.test(document.getElementById("added")?.textContent ?? ""));
    assert.equal(await page.textContent("#added"), "Could not add: A document with this slug already exists");
  });
});
