/**
 * The page at `/`: a search box and a results list with scores, so a person
 * can try the service in a browser. Plain HTML and a few lines of script
 * calling POST /search; results are written with textContent, never as HTML.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>irisql document search</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: 0.25rem; }
  form { display: flex; gap: 0.5rem; margin: 1rem 0; }
  input[type=search] { flex: 1; padding: 0.5rem; font-size: 1rem; }
  select, button { padding: 0.5rem; font-size: 1rem; }
  ol { padding-left: 1.5rem; }
  li { margin: 0.75rem 0; }
  .title { font-weight: 600; }
  .score { font-family: ui-monospace, monospace; color: #555; margin-left: 0.5rem; }
  .snippet { color: #444; font-size: 0.9rem; }
  #status { color: #666; min-height: 1.5rem; }
  #status.error { color: #b00020; }
</style>
</head>
<body>
<h1>Document search</h1>
<p>A Hono app on irisql. Documents are embedded with a local stand-in model and ranked by vector similarity.</p>
<form id="search">
  <input id="q" type="search" name="query" placeholder="Search, e.g. baking bread" required autofocus>
  <select id="metric" name="metric" aria-label="metric">
    <option value="cosine">cosine</option>
    <option value="dot">dot</option>
    <option value="l2">l2</option>
  </select>
  <button type="submit">Search</button>
</form>
<div id="status" role="status"></div>
<ol id="results"></ol>
<script>
const form = document.getElementById("search");
const status = document.getElementById("status");
const list = document.getElementById("results");

function show(message, isError) {
  status.textContent = message;
  status.className = isError ? "error" : "";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = document.getElementById("q").value;
  const metric = document.getElementById("metric").value;
  show("Searching...", false);
  list.replaceChildren();
  try {
    const res = await fetch("/search", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, metric, k: 5 }),
    });
    const data = await res.json();
    if (!res.ok) return show(data.error ? data.error.message : "Search failed", true);
    for (const hit of data.results) {
      const li = document.createElement("li");
      const title = document.createElement("span");
      title.className = "title";
      title.textContent = hit.title;
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = (metric === "l2" ? "distance " : "score ") + hit.score.toFixed(4);
      const snippet = document.createElement("div");
      snippet.className = "snippet";
      snippet.textContent = hit.snippet;
      li.append(title, score, snippet);
      list.append(li);
    }
    show(data.results.length + " results, best first (" + metric + ")", false);
  } catch (error) {
    show("Search failed: " + error.message, true);
  }
});
</script>
</body>
</html>
`;
