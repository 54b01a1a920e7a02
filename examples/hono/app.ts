/**
 * The Hono app: a document store with vector search on irisql. The same app
 * object runs on Deno, Bun and Node; see deno.ts, bun.ts and node.ts.
 *
 *   GET    /               the search page
 *   GET    /health         can the database answer?
 *   POST   /docs           { title, body?, slug? }              -> 201 the document
 *   POST   /docs/bulk      { docs: [ ... ] }                    -> 201 { count }, all or nothing
 *   GET    /docs?limit&offset                                   -> { items, limit, offset, nextOffset }
 *   GET    /docs/:id                                            -> the document, or 404
 *   PATCH  /docs/:id       { title?, body?, slug? }             -> the document, or 404
 *   DELETE /docs/:id                                            -> 204, or 404
 *   POST   /search         { query | vector, k?, metric? }      -> { results: [...] } best first
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Engine } from "../../mod.ts";
import { errorResponse, HttpError, notFound } from "./http-errors.ts";
import { PAGE } from "./page.ts";
import { type SessionEnv, sessionPerRequest } from "./session-middleware.ts";
import type { Store } from "./store.ts";
import { bulkInput, docId, docInput, docPatch, jsonObject, page, searchInput } from "./validate.ts";

/** Largest request body: enough for a bulk load of 1000 short documents. */
const MAX_BODY_BYTES = 1024 * 1024;

export function createApp(engine: Engine, store: Store): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>();

  app.onError(errorResponse);
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } }, 404)
  );

  app.get("/", (c) => c.html(PAGE));

  app.get("/health", async (c) => {
    const h = await engine.health();
    const body = {
      status: h.ok ? "ok" : "unavailable",
      dialect: h.dialect,
      vectorSearch: store.search,
      embedder: store.embedder.name,
      latencyMs: Math.round(h.latencyMs * 100) / 100,
      // Only the error's class: its message can name hosts and users.
      ...(h.ok ? {} : { error: h.error?.split(":")[0] ?? "unknown" }),
    };
    return c.json(body, h.ok ? 200 : 503);
  });

  // Only where a body is expected (on Deno, bodyLimit re-wraps body-less requests needlessly).
  app.on(
    ["POST", "PATCH"],
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new HttpError(413, "payload_too_large", `The body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  app.use("/docs", sessionPerRequest(engine));
  app.use("/docs/*", sessionPerRequest(engine));
  app.use("/search", sessionPerRequest(engine));

  app.post("/docs", async (c) => {
    const doc = await store.create(c.var.session, docInput(await jsonObject(c.req)));
    c.header("Location", `/docs/${doc.id}`);
    return c.json(doc, 201);
  });

  app.post("/docs/bulk", async (c) => {
    const count = await store.createMany(c.var.session, bulkInput(await jsonObject(c.req)));
    return c.json({ count }, 201);
  });

  app.get("/docs", async (c) => {
    const { limit, offset } = page(c.req.query());
    const items = await store.list(c.var.session, { limit, offset });
    return c.json({ items, limit, offset, nextOffset: items.length === limit ? offset + limit : null });
  });

  app.get("/docs/:id", async (c) => {
    const id = docId(c.req.param("id"));
    const doc = await store.get(c.var.session, id);
    if (!doc) throw notFound(`No document with id ${id}`);
    return c.json(doc);
  });

  app.patch("/docs/:id", async (c) => {
    const id = docId(c.req.param("id"));
    const doc = await store.update(c.var.session, id, docPatch(await jsonObject(c.req)));
    if (!doc) throw notFound(`No document with id ${id}`);
    return c.json(doc);
  });

  app.delete("/docs/:id", async (c) => {
    const id = docId(c.req.param("id"));
    if (!(await store.remove(c.var.session, id))) throw notFound(`No document with id ${id}`);
    return c.body(null, 204);
  });

  app.post("/search", async (c) => {
    if (!store.search) {
      throw new HttpError(501, "search_unavailable", "This database has no vector support (PostgreSQL needs pgvector)");
    }
    const input = searchInput(await jsonObject(c.req), store.embedder.dimensions);
    const vector = input.vector ?? await store.embedQuery(input.query);
    const results = await store.nearest(c.var.session, vector, input.k, input.metric);
    return c.json({ metric: input.metric, k: input.k, results });
  });

  return app;
}
