#!/usr/bin/env bash
# Install the Python contender of bench/check (async SQLAlchemy 2.1 on asyncpg) into
# .venv-bench/ from scripts/bench/requirements.lock (every package pinned by version
# and sha256, installed with --require-hashes --no-deps, so nothing unpinned comes in).
#
# Idempotent and fast when nothing changed: the venv keeps the sha256 of the lock file
# it was built from in .venv-bench/.lock-sha256; a matching marker and a working
# interpreter mean there is nothing to do. bench/check runs this before the runtimes.
#
# Needs python3.11 (or $IRISQL_BENCH_PYTHON) with the venv module.
set -euo pipefail
cd "$(dirname "$0")/../.."
lock=scripts/bench/requirements.lock
venv=.venv-bench
marker="$venv/.lock-sha256"
python=${IRISQL_BENCH_PYTHON:-python3.11}
want=$(sha256sum "$lock" | cut -d' ' -f1)
versions='import importlib.metadata as m; print("sqlalchemy", m.version("sqlalchemy"), "asyncpg", m.version("asyncpg"))'

if [[ -f $marker && $(cat "$marker") == "$want" ]] && "$venv/bin/python" -c "import sqlalchemy.ext.asyncio, asyncpg, greenlet" 2>/dev/null; then
  echo "bench python: $venv is up to date ($("$venv/bin/python" -c "$versions"))" >&2
  exit 0
fi

echo "bench python: building $venv from $lock" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --no-deps -r "$lock" >&2
"$venv/bin/python" -m pip check >&2
"$venv/bin/python" -c "import sqlalchemy.ext.asyncio, asyncpg, greenlet" # imports cleanly
echo "$want" >"$marker"
echo "bench python: installed $("$venv/bin/python" -c "$versions")" >&2
