/**
 * The page at `/`: a search form and an "add a document" form, so a person
 * can try the service in a browser. Searching is a plain GET form, rendered
 * on the server: `/?q=baking+bread&k=3&metric=l2` is a link to those results.
 * Adding a document posts JSON to POST /docs with a few lines of script.
 * Every value from the request or the database is HTML-escaped.
 */
import type { VectorMetric } from "irisql";
import type { SearchHit } from "./store.ts";

export interface PageState {
  q: string;
  k: number;
  metric: VectorMetric;
  results?: SearchHit[];
  error?: string;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);

function results(state: PageState): string {
  if (state.error) {
    return `<div id="status" role="status" class="error">${escapeHtml(state.error)}</div>\n<ol id="results"></ol>`;
  }
  if (!state.results) return `<div id="status" role="status"></div>\n<ol id="results"></ol>`;
  const items = state.results.map((hit) => {
    const score = (state.metric === "l2" ? "distance " : "score ") + hit.score.toFixed(4);
    return `  <li><a class="title" href="/docs/${hit.id}">${escapeHtml(hit.title)}</a>` +
      `<span class="score">${score}</span><div class="snippet">${escapeHtml(hit.snippet)}</div></li>`;
  });
  const status = `${state.results.length} results, best first (${state.metric})`;
  return `<div id="status" role="status">${status}</div>\n<ol id="results">\n${items.join("\n")}\n</ol>`;
}

export function renderPage(state: PageState): string {
  const option = (m: VectorMetric) => `<option value="${m}"${m === state.metric ? " selected" : ""}>${m}</option>`;
  const title = state.q ? `${escapeHtml(state.q)} – irisql document search` : "irisql document search";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: 0.25rem; }
  h2 { font-size: 1.1rem; margin-top: 2rem; }
  form { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 1rem 0; }
  input[type=search], #title { flex: 1; padding: 0.5rem; font-size: 1rem; }
  #k { width: 4rem; padding: 0.5rem; font-size: 1rem; }
  textarea { flex-basis: 100%; min-height: 4rem; padding: 0.5rem; font: inherit; }
  select, button { padding: 0.5rem; font-size: 1rem; }
  ol { padding-left: 1.5rem; }
  li { margin: 0.75rem 0; }
  .title { font-weight: 600; color: inherit; }
  .score { font-family: ui-monospace, monospace; color: #555; margin-left: 0.5rem; }
  .snippet { color: #444; font-size: 0.9rem; }
  #status, #added { color: #666; min-height: 1.5rem; }
  .error { color: #b00020 !important; }
</style>
</head>
<body>
<h1>Document search</h1>
<p>A Hono app on irisql. Documents are embedded with a local stand-in model and ranked by vector similarity.</p>
<form id="search" method="get" action="/">
  <input id="q" type="search" name="q" value="${
    escapeHtml(state.q)
  }" placeholder="Search, e.g. baking bread" required autofocus>
  <label>k <input id="k" type="number" name="k" min="1" max="50" value="${state.k}"></label>
  <select id="metric" name="metric" aria-label="metric">
    ${option("cosine")}
    ${option("dot")}
    ${option("l2")}
  </select>
  <button type="submit">Search</button>
</form>
${results(state)}
<h2>Add a document</h2>
<form id="add">
  <input id="title" name="title" placeholder="Title" required maxlength="200">
  <textarea id="body" name="body" placeholder="Text"></textarea>
  <button type="submit">Add</button>
</form>
<div id="added" role="status"></div>
<script>
document.getElementById("add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const added = document.getElementById("added");
  const title = document.getElementById("title").value;
  const body = document.getElementById("body").value;
  try {
    const res = await fetch("/docs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title, body }),
    });
    const data = await res.json();
    if (!res.ok) throw new Error(data.error ? data.error.message : "status " + res.status);
    added.className = "";
    added.textContent = "Added document " + data.id + ": " + data.title;
    event.target.reset();
  } catch (error) {
    added.className = "error";
    added.textContent = "Could not add: " + error.message;
  }
});
</script>
</body>
</html>
`;
}
