"""Declares the compiled kernel; all metadata lives in pyproject.toml."""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

# CLEAR_FAST_DEBUG=1 builds the kernel with bounds and wraparound checks on.
debug = os.environ.get("CLEAR_FAST_DEBUG") == "1"

extensions = [
    Extension(f"clear_fast.{name}", [f"clear_fast/{name}.pyx"], extra_compile_args=["-O3"] if not debug else ["-O0", "-g"])
    for name in ("_solver", "_exact_solver")
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={
            "boundscheck": debug,
            "wraparound": debug,
            "cdivision": not debug,
            "initializedcheck": debug,
            "autotestdict": False,
        },
    )
)
