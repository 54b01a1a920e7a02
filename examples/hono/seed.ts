/**
 * The documents a fresh database starts with, so search answers at once.
 * Mixed topics on purpose: a query about bread should not find databases.
 */
export interface SeedDoc {
  slug: string;
  title: string;
  body: string;
}

export const SEED_DOCS: readonly SeedDoc[] = [
  {
    slug: "iris-vector-search",
    title: "Vector search in InterSystems IRIS",
    body: "IRIS stores embeddings in VECTOR columns and ranks rows with VECTOR_COSINE and VECTOR_DOT_PRODUCT. " +
      "An HNSW index makes nearest-neighbour search fast on large tables.",
  },
  {
    slug: "pgvector",
    title: "pgvector for PostgreSQL",
    body: "The pgvector extension adds a vector type and distance operators to PostgreSQL: <=> for cosine distance, " +
      "<#> for negative inner product and <-> for Euclidean distance.",
  },
  {
    slug: "pglite",
    title: "PGlite: PostgreSQL embedded in your process",
    body: "PGlite is PostgreSQL compiled to WebAssembly. It runs in Node, Bun, Deno and the browser, keeps its data " +
      "in memory or in a local folder, and loads extensions such as pgvector.",
  },
  {
    slug: "hono",
    title: "Hono, a small web framework",
    body: "Hono routes requests on web-standard Request and Response objects, so one app runs on Deno, Bun, Node " +
      "and edge platforms. Middleware wraps handlers, for example to open a database session per request.",
  },
  {
    slug: "deno-runtime",
    title: "The Deno runtime",
    body: "Deno runs TypeScript directly, asks for permissions before touching the network or the disk, and serves " +
      "HTTP with Deno.serve.",
  },
  {
    slug: "bun-runtime",
    title: "The Bun runtime",
    body: "Bun is a fast JavaScript runtime with a bundler, a test runner and a package manager built in. Bun.serve " +
      "starts an HTTP server in one call.",
  },
  {
    slug: "node-runtime",
    title: "Node.js",
    body: "Node.js is the long-standing server-side JavaScript runtime, with npm, streams and a huge ecosystem of " +
      "packages.",
  },
  {
    slug: "embeddings",
    title: "What is an embedding?",
    body: "An embedding model turns text into a vector of numbers so that similar texts end up close together. " +
      "Cosine similarity compares the direction of two vectors.",
  },
  {
    slug: "sourdough",
    title: "Baking sourdough bread",
    body: "Feed the starter the night before, mix flour, water and salt, fold the dough every half hour, then bake " +
      "the loaf in a hot Dutch oven.",
  },
  {
    slug: "espresso",
    title: "Pulling a good espresso shot",
    body: "Grind the coffee beans fine, dose eighteen grams, tamp evenly and aim for about thirty seconds of " +
      "extraction.",
  },
  {
    slug: "alpine-hiking",
    title: "Hiking in the Alps",
    body: "Start early, carry water and a rain jacket, and check the weather forecast before crossing a mountain " +
      "pass.",
  },
  {
    slug: "tomato-garden",
    title: "Growing tomatoes in a small garden",
    body: "Tomatoes need sun, deep watering and support from stakes or cages. Pinch off side shoots to get bigger " +
      "fruit.",
  },
];
