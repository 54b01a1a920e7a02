// irisql quick start: a complete program. Run it with
//   node --import tsx examples/quickstart.ts   |   bun examples/quickstart.ts   |   deno task quickstart
// It needs @electric-sql/pglite and @electric-sql/pglite-pgvector (see Install in the README).
import { col, createEngine, index, type InferRow, sql, table, text } from "irisql";

const engine = createEngine("pglite://memory"); // or postgres://…, or iris://…

// Raw SQL with named or template parameters — always bound, never spliced.
const r = await engine.execute(text("SELECT :a::int + :b::int AS s"), { a: 1, b: 2 });
console.log("1 + 2 =", r.scalar()); // 1 + 2 = 3

// Tables with inferred row types.
const docs = table("docs", {
  id: col.bigint().primaryKey().generated(),
  title: col.varchar(200).notNull(),
  body: col.text(),
  published: col.boolean().default(false),
  createdAt: col.timestamp().defaultNow(),
  embedding: col.vector(3),
}, { indexes: [index("docs_embedding_hnsw").on("embedding").hnsw({ metric: "cosine" })] });
type Doc = InferRow<typeof docs>; // { id: number; title: string; body: string | null; … }

await engine.createAll([docs], { checkfirst: true });

// A unit of work: commit on return, roll back on throw.
const best = await engine.session(async (s) => {
  await s.insert(docs, { title: "IRIS vectors", embedding: [1, 0, 0] });
  await s.insertMany(docs, [{ title: "pgvector", embedding: [0.9, 0.1, 0] }, { title: "other", embedding: [0, 0, 1] }]);
  return s.nearest(docs, "embedding", [1, 0, 0], { k: 2, metric: "cosine" }); // best first, with .score
});
for (const hit of best) console.log(`${hit.title}: ${hit.score.toFixed(3)}`);
// IRIS vectors: 1.000
// pgvector: 0.994

// Transactions and savepoints on the raw layer.
const top = best[0];
if (top === undefined) throw new Error("no documents found");
await engine.begin(async (tx) => {
  await tx.execute(sql`UPDATE docs SET published = ${true} WHERE id = ${top.id}`);
  await tx.savepoint(async () => {/* undone alone if it throws */});
});

const published: Doc[] = await engine.session((s) => s.find(docs, { where: { published: true } }));
console.log("published:", published.map((d) => d.title).join(", ")); // published: IRIS vectors

await engine.dispose(); // or: await using engine = createEngine(…)
