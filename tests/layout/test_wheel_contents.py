"""The wheel ships the whole package and nothing of the tests: built from a copy of this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from layout_helpers import REPO

BUILD_FILES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "MANIFEST.in")
LEFT_BEHIND = ("*.so", "*.pyd", "*.c", "__pycache__", "*.egg-info", "build")
TEST_HELPER_NAMES = {"tests", "testing", "support", "conftest.py"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built (no isolation, no dependencies) from a clean copy of the sources."""
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_FILES:
        if (REPO / name).exists():
            shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "clear_fast", source / "clear_fast", ignore=shutil.ignore_patterns(*LEFT_BEHIND))
    out = tmp_path_factory.mktemp("wheel")
    # Bounds checks on and optimisation off: the same files, compiled in a fraction of the time.
    env = {**os.environ, "CLEAR_FAST_DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("clear_fast-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_files(wheel) -> list[PurePosixPath]:
    with zipfile.ZipFile(wheel) as archive:
        return [PurePosixPath(name) for name in archive.namelist()]


def test_no_test_helper_is_shipped(wheel_files):
    helpers = [
        str(name) for name in wheel_files
        if TEST_HELPER_NAMES & set(name.parts) or name.name.startswith("test_") or name.name.endswith("_test.py")
    ]
    assert helpers == []


def test_only_the_package_and_its_metadata_are_at_the_top(wheel_files):
    tops = {name.parts[0] for name in wheel_files}
    assert "clear_fast" in tops
    assert [top for top in tops if top != "clear_fast" and not top.endswith(".dist-info")] == []


def test_every_module_and_data_file_of_the_package_is_shipped(wheel_files):
    shipped = {str(name) for name in wheel_files}
    package = REPO / "clear_fast"
    wanted = [
        path.relative_to(REPO).as_posix()
        for path in package.rglob("*")
        if path.is_file() and path.suffix in (".py", ".pyi", ".json", ".lua", ".typed", ".pyx", ".pxd")
        and "__pycache__" not in path.parts
    ]
    assert [name for name in wanted if name not in shipped] == []
    for subpackage in ("calls", "cli", "experiments", "experiments/report", "runtime", "workloads", "fit"):
        assert f"clear_fast/{subpackage}/__init__.py" in shipped
    assert any(name.startswith("clear_fast/") and name.endswith(".so") for name in shipped)  # the compiled kernel


def test_the_command_is_declared(wheel, wheel_files):
    (entry_points,) = [name for name in wheel_files if name.name == "entry_points.txt"]
    with zipfile.ZipFile(wheel) as archive:
        declared = archive.read(str(entry_points)).decode()
    assert "clear-fast = clear_fast.cli:main" in declared
