#!/usr/bin/env bash
# Builds the release wheel the way CI does for manylinux2014 x86_64, proves it is
# installable without Rust, and runs the test suite against it:
#
#   1. maturin + ziglang (both from PyPI) in a build virtualenv; zig links against a
#      glibc 2.17 sysroot, so the wheel runs on any manylinux2014 system;
#   2. `maturin build --profile dist --zig --compatibility manylinux2014` (abi3);
#   3. checks the wheel's tag (cp311-abi3, manylinux2014) and that the extension needs
#      no GLIBC symbol version newer than 2.17 (objdump; auditwheel too);
#   4. installs the wheel into a fresh virtualenv and runs a copy of tests/ from outside
#      the source tree, on a PATH without cargo or rustc, so the package under test is the
#      installed wheel, not the checkout.
#
# Usage: scripts/build-wheel.sh            (about 10 minutes on 2 cores, from scratch)
# Environment: PYTHON (default python3, 3.11+), WHEEL_TARGET_DIR (cargo target directory
# of this build, default /tmp/domo-datasets-wheel-target), WORK (scratch directory),
# PYTEST_ARGS (extra pytest arguments).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/domo-datasets-wheel.XXXXXX")}
TARGET_DIR=${WHEEL_TARGET_DIR:-/tmp/domo-datasets-wheel-target}
MAX_GLIBC=2.17

say() { printf '\n== %s\n' "$*"; }
fail() { printf 'build-wheel: %s\n' "$*" >&2; exit 1; }

mkdir -p "$WORK"
say "scratch directory $WORK, cargo target $TARGET_DIR"

# The toolchain's own cargo and rustc, not rustup's proxies or wrappers: a dependency's
# rust-toolchain file cannot switch toolchains mid-build, and CARGO_TARGET_DIR holds.
SYSROOT=$(RUSTUP_TOOLCHAIN=${RUSTUP_TOOLCHAIN:-stable} rustc --print sysroot)
[ -x "$SYSROOT/bin/cargo" ] || fail "no cargo in $SYSROOT/bin"

say "build virtualenv: maturin and ziglang from PyPI"
"$PYTHON" -m venv "$WORK/build-venv"
"$WORK/build-venv/bin/python" -m pip install --quiet --upgrade pip
"$WORK/build-venv/bin/python" -m pip install --quiet "maturin>=1.16,<2" ziglang auditwheel

say "maturin build --profile dist --zig --compatibility manylinux2014"
started=$(date +%s)
(
    cd "$ROOT"
    PATH="$WORK/build-venv/bin:$SYSROOT/bin:$PATH" CARGO_TARGET_DIR="$TARGET_DIR" \
        maturin build --profile dist --zig --compatibility manylinux2014 \
        --target x86_64-unknown-linux-gnu --interpreter "$WORK/build-venv/bin/python" \
        --out "$WORK/dist"
)
echo "built in $(($(date +%s) - started)) s"

shopt -s nullglob
wheels=("$WORK"/dist/*.whl)
[ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel in $WORK/dist, found ${#wheels[@]}"
WHEEL=${wheels[0]}
name=$(basename "$WHEEL")
size=$(stat -c %s "$WHEEL")
say "wheel $name ($size bytes, $((size / 1024)) KiB)"

say "tag"
case "$name" in
    *-cp311-abi3-*manylinux2014_x86_64*.whl) echo "ok: cp311-abi3, manylinux2014_x86_64" ;;
    *) fail "wheel $name is not tagged cp311-abi3 manylinux2014_x86_64" ;;
esac
"$WORK/build-venv/bin/python" - "$WHEEL" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))
    tags = [l.split(":", 1)[1].strip() for l in z.read(meta).decode().splitlines() if l.startswith("Tag:")]
print("WHEEL tags:", ", ".join(tags))
if not tags or not all("abi3" in t and "manylinux" in t for t in tags):
    sys.exit("the WHEEL metadata does not say abi3 and manylinux")
EOF

say "glibc symbol versions (at most $MAX_GLIBC)"
mkdir -p "$WORK/unpacked"
"$WORK/build-venv/bin/python" -m zipfile -e "$WHEEL" "$WORK/unpacked"
so=$(find "$WORK/unpacked" -name '_domo*.so' | head -n 1)
[ -n "$so" ] || fail "no extension module in the wheel"
versions=$(objdump -T "$so" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V)
echo "$versions" | tr '\n' ' '
echo
newest=$(echo "$versions" | sed 's/GLIBC_//' | sort -V | tail -n 1)
if [ "$(printf '%s\n%s\n' "$newest" "$MAX_GLIBC" | sort -V | tail -n 1)" != "$MAX_GLIBC" ]; then
    fail "the extension needs GLIBC_$newest, newer than $MAX_GLIBC"
fi
echo "ok: newest is GLIBC_$newest"
"$WORK/build-venv/bin/auditwheel" show "$WHEEL"

say "fresh virtualenv with the wheel, PATH without Rust"
"$PYTHON" -m venv --system-site-packages "$WORK/test-venv"
"$WORK/test-venv/bin/python" -m pip install --quiet --no-deps --no-index "$WHEEL"
CLEAN_PATH="$WORK/test-venv/bin:/usr/local/bin:/usr/bin:/bin"
for tool in cargo rustc rustup; do
    if PATH="$CLEAN_PATH" command -v "$tool" > /dev/null; then
        fail "$tool is on the test PATH"
    fi
done
echo "ok: no cargo, rustc or rustup on $CLEAN_PATH"

# tests/ is copied beside a link to the shared spec (one test reads it), and pytest's
# settings from pyproject.toml are restated, since the source tree is not used.
mkdir -p "$WORK/suite"
cp -r "$ROOT/tests" "$WORK/suite/tests"
rm -rf "$WORK/suite/tests/__pycache__"
if [ -d "$ROOT/../shared" ]; then
    ln -sfn "$(cd "$ROOT/../shared" && pwd)" "$WORK/shared"
fi
cat > "$WORK/suite/pytest.ini" <<'EOF'
[pytest]
testpaths = tests
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
timeout = 300
addopts = -ra -p no:cacheprovider
EOF

cd "$WORK/suite"
installed=$(env -i HOME="$HOME" PATH="$CLEAN_PATH" python -c \
    'import domo_datasets; print(domo_datasets.__file__)')
case "$installed" in
    "$WORK/test-venv/"*) echo "ok: testing $installed" ;;
    *) fail "domo_datasets comes from $installed, not the wheel" ;;
esac

say "pytest against the installed wheel"
# shellcheck disable=SC2086
env -i HOME="$HOME" PATH="$CLEAN_PATH" LANG=C.UTF-8 python -m pytest -q ${PYTEST_ARGS:-}

say "done: $name, $size bytes"
