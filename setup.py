"""Declares the compiled kernel; all metadata lives in pyproject.toml."""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

# CLEAR_FAST_DEBUG=1 builds the kernel with bounds and wraparound checks on, unoptimised; its
# generated C goes to its own folder so neither build ever compiles the other's.
debug = os.environ.get("CLEAR_FAST_DEBUG") == "1"

kernel = Extension(
    "clear_fast._solver.*",
    ["clear_fast/_solver/*.pyx"],
    extra_compile_args=["-O3"] if not debug else ["-O0", "-g"],
)

setup(
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
        },
    )
)
