#!/usr/bin/env bash
# Install the real iris-pgwire server (PyPI iris-pgwire==1.7.3) into .venv-iris/
# from scripts/iris-pgwire/requirements.lock (every package pinned by version and
# sha256, installed with --require-hashes --no-deps, so nothing unpinned can come in).
#
# Idempotent and fast when nothing changed: the venv keeps the sha256 of the lock
# file it was built from in .venv-iris/.lock-sha256; a matching marker and a
# working interpreter mean there is nothing to do.
#
# Needs python3.11 (or $IRIS_PGWIRE_PYTHON) with the venv module. Used by
# tests/fixtures/iris-pgwire-real/ (the real server over an IRIS stand-in).
set -euo pipefail
cd "$(dirname "$0")/../.."
lock=scripts/iris-pgwire/requirements.lock
venv=.venv-iris
marker="$venv/.lock-sha256"
python=${IRIS_PGWIRE_PYTHON:-python3.11}
want=$(sha256sum "$lock" | cut -d' ' -f1)

if [[ -f $marker && $(cat "$marker") == "$want" ]] && "$venv/bin/python" -c "import iris_pgwire" 2>/dev/null; then
  echo "iris-pgwire: $venv is up to date ($(
    "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("iris-pgwire"))'
  ))"
  exit 0
fi

echo "iris-pgwire: building $venv from $lock"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --no-deps -r "$lock"
"$venv/bin/python" -m pip check
"$venv/bin/python" -c "import iris_pgwire.server, psycopg2" >/dev/null # imports cleanly
echo "$want" >"$marker"
echo "iris-pgwire: installed $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("iris-pgwire"))')"
