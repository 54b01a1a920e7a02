/**
 * Embeddings for the example. `hashedNgramEmbedder` is a stand-in for a real
 * embedding model: deterministic, local, no download and no network. It
 * hashes words and character trigrams into a fixed number of buckets and
 * normalises the result, so texts that share words and word pieces score
 * close under cosine similarity. That is lexical, not semantic, similarity:
 * good enough to show vector search end to end, not to judge meaning.
 *
 * To use a real model, implement `Embedder` (one call per batch of texts, so
 * a model server sees batches) and pass it to `createApp` / `startExample`.
 * A different `dimensions` needs a fresh database: the column is sized by it.
 */

export interface Embedder {
  /** Length of every vector `embed` returns; sizes the `embedding` column. */
  readonly dimensions: number;
  /** Shown by /health, so a client knows which model produced the vectors. */
  readonly name: string;
  /** One vector per text, in order. */
  embed(texts: readonly string[]): Promise<number[][]>;
}

/** Words (letters and digits) of a text, lower-cased, accents removed. */
function words(text: string): string[] {
  const plain = text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
  const found = plain.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  // A text of only punctuation still gets features, so it never embeds to zero.
  return found.length > 0 ? found : plain.split(/\s+/).filter(Boolean);
}

/** 32-bit FNV-1a: the same number for the same string on every runtime. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Whole words and the trigrams of `#word#`, each with its weight. */
function features(text: string): [string, number][] {
  const out: [string, number][] = [];
  for (const w of words(text)) {
    out.push(["w:" + w, 1]);
    const padded = `#${w}#`;
    for (let i = 0; i + 3 <= padded.length; i++) out.push(["g:" + padded.slice(i, i + 3), 0.5]);
  }
  return out;
}

/** The hashed-n-gram stand-in embedder (default 256 dimensions). */
export function hashedNgramEmbedder(dimensions = 256): Embedder {
  if (!Number.isInteger(dimensions) || dimensions < 8) throw new Error("dimensions must be a whole number >= 8");
  const embedOne = (text: string): number[] => {
    const v = new Array<number>(dimensions).fill(0);
    for (const [feature, weight] of features(text)) {
      const h = fnv1a(feature);
      // The top bit picks the sign, so colliding features cancel instead of piling up.
      v[h % dimensions]! += h & 0x80000000 ? -weight : weight;
    }
    const norm = Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
    return norm === 0 ? v : v.map((x) => x / norm);
  };
  return {
    dimensions,
    name: `hashed-ngram-${dimensions}`,
    embed: (texts) => Promise.resolve(texts.map(embedOne)),
  };
}
