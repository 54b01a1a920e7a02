#!/usr/bin/env bash
# Proves the npm package works as users get it: `npm pack`, then a fresh Node
# project and a fresh Bun project install the tarball and run a query.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
url="${IRISQL_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$root"
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "packed $tarball"

cat > "$work/check.mjs" <<'JS'
import { createEngine, text, DriverMissingError } from "irisql";
const engine = createEngine(process.argv[2]);
const r = await engine.execute(text("SELECT :a::int + :b::int AS s"), { a: 40, b: 2 });
await engine.dispose();
if (r.scalar() !== 42) throw new Error("unexpected result " + r.scalar());
// PGlite is an optional peer dependency: without it, a clear DriverMissingError.
try {
  await createEngine("pglite://memory").execute("SELECT 1");
  throw new Error("pglite should be missing in this project");
} catch (e) {
  if (!(e instanceof DriverMissingError)) throw e;
  console.log("pglite missing as expected:", e.message);
}
console.log("ok", r.scalar());
JS

echo "--- node project"
mkdir "$work/node-app" && cd "$work/node-app"
npm init -y >/dev/null
npm pkg set type=module
npm install --silent --no-audit --no-fund "$work/$tarball"
cp "$work/check.mjs" . && node check.mjs "$url"
test -f node_modules/irisql/dist/mod.d.ts || { echo "types missing"; exit 1; }

echo "--- bun project"
mkdir "$work/bun-app" && cd "$work/bun-app"
echo '{ "name": "bun-app", "type": "module" }' > package.json
"$root/node_modules/.bin/bun" add "$work/$tarball" >/dev/null
cp "$work/check.mjs" . && "$root/node_modules/.bin/bun" check.mjs "$url"

echo "pack-check: node and bun projects installed and ran irisql"
