"""What the package index shows and what pip resolves: versions, extras, bounds, links, licence, the wheel matrix."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from layout_helpers import REPO
from packaging.requirements import Requirement
from packaging.version import Version

import clear_fast

REPOSITORY = "https://github.com/clear-fast/clear-fast"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
INTEGRATION = tomllib.loads((REPO / "integrations" / "langchain" / "pyproject.toml").read_text(encoding="utf-8"))
# The distribution each optional import comes from.
DISTRIBUTION_OF = {
    "pyarrow": "pyarrow", "redis": "redis", "matplotlib": "matplotlib", "rich": "rich", "scipy": "scipy",
    "ray": "ray", "dask": "dask", "distributed": "distributed",
}
PLATFORM_ARCHS = {"linux": {"x86_64", "aarch64"}, "macos": {"x86_64", "arm64"}, "windows": {"AMD64"}}


def _imports_by_file() -> dict[str, set[str]]:
    """Top-level names each of clear_fast's source files imports (absolute imports only), by path in the repository."""
    found: dict[str, set[str]] = {}
    for path in (REPO / "clear_fast").rglob("*.py"):
        names = found.setdefault(path.relative_to(REPO).as_posix(), set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return found


def _third_party_imports() -> set[str]:
    """Every module clear_fast's sources import that is neither stdlib nor clear_fast."""
    found = set().union(*_imports_by_file().values())
    return {name for name in found if name not in sys.stdlib_module_names and name not in ("clear_fast", "__future__")}


def _modules_importing(name: str) -> set[str]:
    """The package's source files that import ``name``."""
    return {path for path, names in _imports_by_file().items() if name in names}


def test_extras_are_exactly_the_optional_imports():
    extras = {name: {Requirement(r).name for r in reqs} for name, reqs in PYPROJECT["project"]["optional-dependencies"].items()}
    offered = set().union(*(reqs for name, reqs in extras.items() if name != "test"))
    imported = _third_party_imports() - {"numpy", "langchain_clear_fast"}  # numpy is required; the integration is its own package
    assert {DISTRIBUTION_OF.get(name, name) for name in imported} == offered
    assert extras["parquet"] == {"pyarrow"} and extras["redis"] == {"redis"} and extras["demo"] == {"matplotlib", "rich"}
    # the library takes the user's openai client; only the real-model experiment makes its own
    assert extras["real-model"] == {"openai"}
    # the core never imports an engine: only each engine's own module does
    assert extras["ray"] == {"ray", "pyarrow"} and extras["dask"] == {"dask", "distributed"}
    assert _modules_importing("ray") == {"clear_fast/distributed/ray_engine.py"}
    assert _modules_importing("dask") | _modules_importing("distributed") == {"clear_fast/distributed/dask_engine.py"}
    assert _modules_importing("openai") == {"clear_fast/experiments/real_model.py"}
    assert [Requirement(r).name for r in PYPROJECT["project"]["dependencies"]] == ["numpy"]


def test_building_needs_no_numpy():
    assert not [r for r in PYPROJECT["build-system"]["requires"] if Requirement(r).name == "numpy"]
    kernel = "".join(p.read_text() for p in (REPO / "clear_fast" / "_solver").glob("*.p[yx][xd]"))
    assert "cimport numpy" not in kernel and "numpy" not in kernel


def test_each_version_is_written_once():
    for project, package, init in (
        (PYPROJECT, "clear_fast", REPO / "clear_fast" / "__init__.py"),
        (INTEGRATION, "langchain_clear_fast", REPO / "integrations" / "langchain" / "langchain_clear_fast" / "__init__.py"),
    ):
        assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
        assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": f"{package}.__version__"}
        assert len(re.findall(r'^__version__ = "[^"]+"$', init.read_text(), re.M)) == 1


def _minor_versions(lowest: str, highest: str) -> list[str]:
    low, high = (int(v.split(".")[1]) for v in (lowest, highest))
    return [f"3.{minor}" for minor in range(low, high + 1)]


def test_classifiers_name_the_python_versions_the_wheels_are_built_for():
    built = sorted({f"3.{m}" for m in re.findall(r"cp3(\d+)t?-", PYPROJECT["tool"]["cibuildwheel"]["build"] + " ")}, key=Version)
    assert PYPROJECT["project"]["requires-python"] == f">={built[0]}"
    for project in (PYPROJECT, INTEGRATION):
        named = [c.rsplit(" :: ", 1)[1] for c in project["project"]["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
        assert named == _minor_versions(built[0], built[-1])
    free_threaded = "Programming Language :: Python :: Free Threading :: 2 - Beta" in PYPROJECT["project"]["classifiers"]
    assert free_threaded == ("t-*" in PYPROJECT["tool"]["cibuildwheel"]["build"])


def test_the_integration_runs_where_the_core_runs_and_on_compatible_cores():
    assert INTEGRATION["project"]["requires-python"] == PYPROJECT["project"]["requires-python"]
    (core,) = [Requirement(r) for r in INTEGRATION["project"]["dependencies"] if Requirement(r).name == "clear-fast"]
    version = Version(clear_fast.__version__)
    assert version in core.specifier
    assert Version(f"{version.major}.{version.minor + 1}.0") not in core.specifier  # no untested future minor


def test_links_work_on_a_package_index_page():
    for project in (PYPROJECT, INTEGRATION):
        assert project["project"]["urls"] and all(url.startswith(REPOSITORY) for url in project["project"]["urls"].values())
    for readme in (REPO / "README.md", REPO / "integrations" / "langchain" / "README.md"):
        targets = re.findall(r"\]\(([^)\s]+)\)", readme.read_text(encoding="utf-8"))
        assert targets, readme
        relative = [t for t in targets if not t.startswith(("https://", "http://", "#"))]
        assert relative == [], f"{readme.name}: relative links break on the index page: {relative}"
        own = [t for t in targets if "clear-fast/clear-fast" in t]
        assert all(t.startswith((REPOSITORY, "https://raw.githubusercontent.com/clear-fast/clear-fast/")) for t in own)


def test_the_licence_is_the_apache_2_text():
    for path in (REPO / "LICENSE", REPO / "integrations" / "langchain" / "LICENSE"):
        text = path.read_text()
        assert "Apache License" in text and "Version 2.0, January 2004" in text
        assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text and "END OF TERMS AND CONDITIONS" in text
        assert len(text.splitlines()) > 190  # the whole licence, not a pointer to it
    for project in (PYPROJECT, INTEGRATION):
        assert project["project"]["license"] == "Apache-2.0" and project["project"]["license-files"] == ["LICENSE"]


def _identifiers(platform: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "cibuildwheel", "--print-build-identifiers", "--platform", platform],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_cibuildwheel_builds_the_intended_matrix():
    pythons = ["cp310", "cp311", "cp312", "cp313", "cp314", "cp314t"]
    wheel_platforms = {"linux": ["manylinux_x86_64", "manylinux_aarch64"], "macos": ["macosx_x86_64", "macosx_arm64"],
                       "windows": ["win_amd64"]}
    for platform, kinds in wheel_platforms.items():
        assert sorted(_identifiers(platform)) == sorted(f"{py}-{kind}" for py in pythons for kind in kinds), platform


def test_the_release_workflow_builds_every_platform_and_architecture():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "wheels.yml").read_text())
    jobs = workflow["jobs"]
    built = {}
    for entry in jobs["wheels"]["strategy"]["matrix"]["include"]:
        built.setdefault(entry["platform"], set()).add(entry["archs"])
    config = PYPROJECT["tool"]["cibuildwheel"]
    assert built == {platform: set(config[platform]["archs"]) for platform in PLATFORM_ARCHS} == PLATFORM_ARCHS
    (action,) = [step["uses"] for step in jobs["wheels"]["steps"] if step.get("uses", "").startswith("pypa/cibuildwheel@")]
    tested_with = next(Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["test"] if r.startswith("cibuildwheel"))
    assert Version(action.split("@v")[1]) in tested_with.specifier
    assert jobs["publish"]["needs"] == ["wheels", "sdists"] and "release" in jobs["publish"]["if"]
    assert "--strip" in config["linux"]["repair-wheel-command"]
