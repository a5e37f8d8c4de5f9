"""Declares the compiled kernel; all metadata lives in pyproject.toml.

The kernel is the package of Cython modules clear_fast/_solver/*.pyx. Cython is a
build requirement, so a source build always compiles from the .pyx files (the
source distribution ships no generated C). Flags are portable, chosen by
compiler: a wheel must run on every CPU of its platform, so nothing like
-march=native.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

try:
    from Cython.Build import cythonize
except ImportError:
    sys.exit(
        "building clear-fast from source needs Cython>=3.1: pip installs it by itself, unless it builds "
        "without isolation (--no-build-isolation), in which case run `pip install 'Cython>=3.1'` first"
    )

# CLEAR_FAST_DEBUG=1 builds the kernel with bounds and wraparound checks on, unoptimised; its
# generated C goes to its own folder so neither build ever compiles the other's.
debug = os.environ.get("CLEAR_FAST_DEBUG") == "1"

# Per compiler family (setuptools' compiler_type). -g0: an optimised build carries no debug
# information even before a wheel is stripped (it comes after Python's own -g, so it wins).
COMPILE_ARGS = {
    "msvc": ["/Od", "/Zi"] if debug else ["/O2"],
    "unix": ["-O0", "-g"] if debug else ["-O3", "-g0"],
}


class BuildKernel(build_ext):
    """build_ext that gives each extension the flags of the compiler actually used."""

    def build_extensions(self) -> None:
        flags = COMPILE_ARGS["msvc" if self.compiler.compiler_type == "msvc" else "unix"]
        for extension in self.extensions:
            extension.extra_compile_args = list(flags)
        super().build_extensions()


kernel = Extension("clear_fast._solver.*", ["clear_fast/_solver/*.pyx"])

setup(
    cmdclass={"build_ext": BuildKernel},
    ext_modules=cythonize(
        [kernel],
        language_level=3,
        build_dir="build/cython-debug" if debug else None,
        compiler_directives={
            "boundscheck": debug,
            "wraparound": debug,
            "cdivision": not debug,
            "initializedcheck": debug,
            "autotestdict": False,
            # The kernel keeps no module state and runs on caller-owned arrays without the GIL, so
            # free-threaded Python need not turn the GIL back on for it (tests/core/test_core_threads.py).
            "freethreading_compatible": True,
        },
    ),
)
