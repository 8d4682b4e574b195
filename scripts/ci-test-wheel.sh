#!/usr/bin/env bash
# Runs the test suite against the wheel in dist/ (CI, after a release build): the wheel
# and the test dependencies go into the current Python, and a copy of tests/ runs from a
# directory outside the checkout, so `import domo_datasets` finds the wheel, not the
# source tree.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
SUITE="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/domo-datasets-suite"

# shellcheck disable=SC2086
"$PYTHON" -m pip install ${TEST_DEPS:-pytest pytest-asyncio pytest-timeout pyarrow}
"$PYTHON" -m pip install --no-index --find-links "$ROOT/dist" domo-datasets

rm -rf "$SUITE"
mkdir -p "$SUITE"
cp -r "$ROOT/tests" "$SUITE/tests"
# pytest's settings live in pyproject.toml, which is not copied.
cat > "$SUITE/pytest.ini" <<'INI'
[pytest]
testpaths = tests
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
timeout = 300
addopts = -ra -p no:cacheprovider
INI

cd "$SUITE"
installed=$("$PYTHON" -c 'import domo_datasets; print(domo_datasets.__file__)')
echo "testing $installed"
case "$installed" in
    "$ROOT"/*) echo "domo_datasets is imported from the checkout, not the wheel" >&2; exit 1 ;;
esac
"$PYTHON" -m pytest
