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
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { validator } from "hono/validator";
import type { Engine } from "irisql";
import { errorResponse, HttpError, methodNotAllowed, notFound } from "./http-errors.ts";
import { renderPage } from "./page.ts";
import { type SessionEnv, sessionPerRequest } from "./session-middleware.ts";
import type { SearchHit, Store } from "./store.ts";
import { bulkInput, docId, docInput, docPatch, page, pageQuery, searchInput } from "./validate.ts";

/** Largest request body: enough for a bulk load of 1000 short documents. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** POST and PATCH bodies are JSON: anything else is a 415 before the body is read. */
const requireJson: MiddlewareHandler = async (c, next) => {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!/^application\/([\w.-]+\+)?json$/.test(type)) {
    throw new HttpError(415, "unsupported_media_type", "The body must be JSON (content-type: application/json)");
  }
  await next();
};

/** The routes and their methods: any other method on them is a 405 with an Allow header. */
const ROUTES: [string, string[]][] = [
  ["/", ["GET", "HEAD"]],
  ["/health", ["GET", "HEAD"]],
  ["/docs", ["GET", "HEAD", "POST"]],
  ["/docs/:id", ["GET", "HEAD", "PATCH", "DELETE"]],
  ["/search", ["POST"]],
];

export function createApp(engine: Engine, store: Store): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>();
  const backend = engine.config.target.kind === "pglite" ? "pglite" : engine.config.dialect.name;

  app.onError(errorResponse);
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` } }, 404)
  );

  // Only where a body is expected (on Deno, bodyLimit re-wraps body-less requests needlessly).
  app.on(
    ["POST", "PATCH"],
    "*",
    requireJson,
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new HttpError(413, "payload_too_large", `The body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  app.use("/", sessionPerRequest(engine));
  app.use("/docs", sessionPerRequest(engine));
  app.use("/docs/*", sessionPerRequest(engine));
  app.use("/search", sessionPerRequest(engine));

  // The page: /?q=…&k=…&metric=… searches on the server, so a search is a link.
  app.get("/", async (c) => {
    let query;
    try {
      query = pageQuery(c.req.query());
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return c.html(renderPage({ q: c.req.query("q") ?? "", k: 5, metric: "cosine", error: error.message }), 400);
    }
    if (query.q === "") return c.html(renderPage(query));
    if (!store.search) {
      return c.html(
        renderPage({ ...query, error: "This database has no vector support (PostgreSQL needs pgvector)" }),
        501,
      );
    }
    const results: SearchHit[] = await store.nearest(
      c.var.session,
      await store.embedQuery(query.q),
      query.k,
      query.metric,
    );
    return c.html(renderPage({ ...query, results }));
  });

  app.get("/health", async (c) => {
    const h = await engine.health();
    const body = {
      status: h.ok ? "ok" : "unavailable",
      backend,
      dialect: h.dialect,
      vectorSearch: store.search,
      embedder: store.embedder.name,
      latencyMs: Math.round(h.latencyMs * 100) / 100,
      // Only the error's class: its message can name hosts and users.
      ...(h.ok ? {} : { error: h.error?.split(":")[0] ?? "unknown" }),
    };
    return c.json(body, h.ok ? 200 : 503);
  });

  app.post("/docs", validator("json", (v) => docInput(v)), async (c) => {
    const doc = await store.create(c.var.session, c.req.valid("json"));
    c.header("Location", `/docs/${doc.id}`);
    return c.json(doc, 201);
  });

  app.post("/docs/bulk", validator("json", (v) => bulkInput(v)), async (c) => {
    const count = await store.createMany(c.var.session, c.req.valid("json"));
    return c.json({ count }, 201);
  });
  // Here, not with the others below: GET /docs/bulk would otherwise reach GET /docs/:id.
  app.all("/docs/bulk", (c) => {
    throw methodNotAllowed(c.req.method, c.req.path, ["POST"]);
  });

  app.get("/docs", validator("query", (q) => page(q)), async (c) => {
    const { limit, offset } = c.req.valid("query");
    const items = await store.list(c.var.session, { limit, offset });
    return c.json({ items, limit, offset, nextOffset: items.length === limit ? offset + limit : null });
  });

  const idParam = validator("param", (p: Record<string, string>) => ({ id: docId(p.id ?? "") }));

  app.get("/docs/:id", idParam, async (c) => {
    const { id } = c.req.valid("param");
    const doc = await store.get(c.var.session, id);
    if (!doc) throw notFound(`No document with id ${id}`);
    return c.json(doc);
  });

  app.patch("/docs/:id", idParam, validator("json", (v) => docPatch(v)), async (c) => {
    const { id } = c.req.valid("param");
    const doc = await store.update(c.var.session, id, c.req.valid("json"));
    if (!doc) throw notFound(`No document with id ${id}`);
    return c.json(doc);
  });

  app.delete("/docs/:id", idParam, async (c) => {
    const { id } = c.req.valid("param");
    if (!(await store.remove(c.var.session, id))) throw notFound(`No document with id ${id}`);
    return c.body(null, 204);
  });

  app.post("/search", validator("json", (v) => searchInput(v, store.embedder.dimensions)), async (c) => {
    if (!store.search) {
      throw new HttpError(501, "search_unavailable", "This database has no vector support (PostgreSQL needs pgvector)");
    }
    const input = c.req.valid("json");
    const vector = input.vector ?? await store.embedQuery(input.query);
    const results = await store.nearest(c.var.session, vector, input.k, input.metric);
    return c.json({ metric: input.metric, k: input.k, results });
  });

  // Registered last: reached only when no route above answered the method.
  for (const [path, allow] of ROUTES) {
    app.all(path, (c) => {
      throw methodNotAllowed(c.req.method, c.req.path, allow);
    });
  }

  return app;
}
