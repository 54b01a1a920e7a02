#!/usr/bin/env bash
# Proves the npm package works as users get it, installed with the README's
# own commands: `npm pack`, then a throwaway registry on 127.0.0.1 serves that
# tarball as `irisql` (every other package comes from the configured npm
# registry, unchanged), and fresh projects run exactly the documented installs:
#   node: npm install irisql                  -> a PostgreSQL query; pglite: is a DriverMissingError
#   node: npm install irisql <pglite peers>   -> examples/quickstart.ts, type-checked by tsc under
#                                                strict flags and run
#   bun:  bun add irisql <pglite peers>       -> the quick start and a PostgreSQL query
#   deno: deno add npm:irisql <pglite peers>  -> the same, after deno check under strict flags
# The install lines are read from README.md, so the README cannot drift from what is tested.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
url="${IRISQL_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
work="$(mktemp -d)"
registry_pid=""
cleanup() {
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export NO_COLOR=1
bun="$root/node_modules/.bin/bun"
deno="$root/node_modules/.bin/deno"
tsc="$root/node_modules/.bin/tsc"
# bun and deno as the npm packages install them (the installs below call them by name).
export PATH="$root/node_modules/.bin:$PATH"

# The documented commands, from the README's Install section (between the irisql-install markers).
readme_line() { # $1: a regex the line starts with
  sed -n '/<!-- irisql-install -->/,/<!-- \/irisql-install -->/p' "$root/README.md" | grep -E "^$1" | sed 's/ *#.*$//' | head -n 1
}
npm_min="$(readme_line 'npm install irisql *($|#)')"
npm_full="$(readme_line 'npm install irisql @')"
bun_full="$(readme_line 'bun add irisql @')"
deno_full="$(readme_line 'deno add npm:irisql npm:')"
for v in npm_min npm_full bun_full deno_full; do
  [[ -n ${!v} ]] || { echo "pack-check: README.md has no $v line in its Install section"; exit 1; }
  echo "$v: ${!v}"
done

cd "$root"
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "packed $tarball"

# The registry: irisql from the tarball, everything else passed through to the real one.
upstream="$(npm config get registry)"
cat > "$work/registry.mjs" <<'JS'
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
const [tarball, upstream] = process.argv.slice(2);
const tgz = readFileSync(tarball);
const pkg = JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" }));
const server = createServer(async (req, res) => {
  try {
    const path = decodeURIComponent(req.url.split("?")[0]);
    const base = `http://127.0.0.1:${server.address().port}`;
    if (path === `/${pkg.name}`) {
      const file = `${pkg.name}-${pkg.version}.tgz`;
      const dist = {
        tarball: `${base}/${pkg.name}/-/${file}`,
        shasum: createHash("sha1").update(tgz).digest("hex"),
        integrity: "sha512-" + createHash("sha512").update(tgz).digest("base64"),
      };
      const body = { name: pkg.name, "dist-tags": { latest: pkg.version }, versions: { [pkg.version]: { ...pkg, dist } } };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    } else if (path.startsWith(`/${pkg.name}/-/`)) {
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(tgz);
    } else {
      const up = await fetch(upstream.replace(/\/$/, "") + req.url, {
        headers: { accept: req.headers.accept ?? "application/json" },
      });
      const body = Buffer.from(await up.arrayBuffer());
      res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" }).end(body);
    }
  } catch (error) {
    res.writeHead(502).end(String(error));
  }
});
server.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}/`));
JS
node "$work/registry.mjs" "$work/$tarball" "$upstream" > "$work/registry.url" &
registry_pid=$!
for _ in $(seq 1 50); do [[ -s $work/registry.url ]] && break; sleep 0.1; done
registry="$(cat "$work/registry.url")"
echo "registry $registry (irisql from $tarball, the rest from upstream)"
# npm, Bun and Deno all read the registry from here.
export npm_config_registry="$registry" NPM_CONFIG_REGISTRY="$registry"
export npm_config_cache="$work/npm-cache" BUN_INSTALL_CACHE_DIR="$work/bun-cache" DENO_DIR="$work/deno-dir"

cat > "$work/check.mjs" <<'JS'
import { createEngine, text, DriverMissingError } from "irisql";
const engine = createEngine(process.argv[2]);
const r = await engine.execute(text("SELECT :a::int + :b::int AS s"), { a: 40, b: 2 });
await engine.dispose();
if (r.scalar() !== 42) throw new Error("unexpected result " + r.scalar());
if (process.argv[3] === "without-pglite") {
  // PGlite is an optional peer dependency: without it, a clear DriverMissingError.
  try {
    await createEngine("pglite://memory").execute("SELECT 1");
    throw new Error("pglite should be missing in this project");
  } catch (e) {
    if (!(e instanceof DriverMissingError)) throw e;
    console.log("pglite missing as expected:", e.message);
  }
}
console.log("postgres ok", r.scalar());
JS
# Under Deno, process comes from node:process.
sed '1i import process from "node:process";' "$work/check.mjs" > "$work/check-deno.mjs"

# The quick start's output, as the README shows it.
expected="$work/expected.txt"
printf '%s\n' "1 + 2 = 3" "IRIS vectors: 1.000" "pgvector: 0.994" "published: IRIS vectors" > "$expected"
same_output() {
  if diff -u "$expected" -; then echo "the quick start printed what the README shows ($1)"; else
    echo "pack-check: the quick start printed something else on $1"
    exit 1
  fi
}

# The strict flags the README promises the quick start compiles under.
cat > "$work/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext",
    "strict": true, "noUnusedLocals": true, "noUnusedParameters": true,
    "noUncheckedIndexedAccess": true, "exactOptionalPropertyTypes": true,
    "lib": ["ES2023", "esnext.disposable"], "types": ["node"], "outDir": "out"
  },
  "files": ["quickstart.ts"]
}
JSON

echo "--- node project: $npm_min"
mkdir "$work/node-min" && cd "$work/node-min"
npm init -y >/dev/null && npm pkg set type=module
eval "$npm_min --silent --no-audit --no-fund"
test -f node_modules/irisql/dist/mod.d.ts || { echo "types missing"; exit 1; }
cp "$work/check.mjs" . && node check.mjs "$url" without-pglite

echo "--- node project: $npm_full"
mkdir "$work/node-app" && cd "$work/node-app"
npm init -y >/dev/null && npm pkg set type=module
eval "$npm_full --silent --no-audit --no-fund"
# @types/node only for the type check (console, process): from the repo, not installed here.
mkdir -p node_modules/@types && ln -s "$root/node_modules/@types/node" node_modules/@types/node
cp "$root/examples/quickstart.ts" "$work/tsconfig.json" .
"$tsc" -p tsconfig.json && echo "tsc: the quick start compiles under strict flags"
node out/quickstart.js | same_output node
cp "$work/check.mjs" . && node check.mjs "$url"

echo "--- bun project: $bun_full"
mkdir "$work/bun-app" && cd "$work/bun-app"
echo '{ "name": "bun-app", "type": "module" }' > package.json
eval "$bun_full" >/dev/null
cp "$root/examples/quickstart.ts" . && "$bun" quickstart.ts | same_output bun
cp "$work/check.mjs" . && "$bun" check.mjs "$url"

echo "--- deno project: $deno_full"
mkdir "$work/deno-app" && cd "$work/deno-app"
cat > deno.json <<'JSON'
{
  "compilerOptions": {
    "strict": true, "noUnusedLocals": true, "noUnusedParameters": true,
    "noUncheckedIndexedAccess": true, "exactOptionalPropertyTypes": true
  }
}
JSON
eval "$deno_full" >/dev/null
cp "$root/examples/quickstart.ts" . && "$deno" check quickstart.ts
"$deno" run --allow-env --allow-read quickstart.ts | same_output deno
cp "$work/check-deno.mjs" check.mjs && "$deno" run --allow-net --allow-env --allow-read check.mjs "$url"

# The irisql binary in each project: --help, then migrate status on an empty folder (exit 0, no password shown).
cli_check() { # $1: project dir, rest: the command that runs the binary
  local dir="$1"; shift
  cd "$dir" && mkdir -p migrations
  "$@" --help | grep -q "irisql generate" || { echo "pack-check: irisql --help failed in $dir"; exit 1; }
  local out
  out="$(DATABASE_URL="${url/postgres@/postgres:PackS3cret@}" "$@" migrate status --folder migrations)" ||
    { echo "pack-check: irisql migrate status failed in $dir: $out"; exit 1; }
  if grep -q PackS3cret <<<"$out"; then echo "pack-check: irisql printed the password"; exit 1; fi
  echo "irisql CLI ok ($*): $(tail -n 1 <<<"$out")"
}
cli_check "$work/node-app" npx --no-install irisql
cli_check "$work/bun-app" "$bun" x irisql
cli_check "$work/deno-app" "$deno" run -A npm:irisql

echo "pack-check: the tarball installed with the README's commands on Node, Bun and Deno, and ran there"
