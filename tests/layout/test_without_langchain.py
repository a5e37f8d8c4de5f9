"""The core never needs LangChain: with every ``langchain*`` import failing, all of clear_fast imports and the demo runs."""

from __future__ import annotations

import json

from layout_helpers import BLOCK_LANGCHAIN, run_python


def test_the_blocker_really_blocks():
    done = run_python(BLOCK_LANGCHAIN + "import langchain_core")
    assert done.returncode != 0 and "blocked" in done.stderr


def test_every_module_of_clear_fast_imports_without_langchain():
    code = BLOCK_LANGCHAIN + '''
import importlib, pkgutil
import clear_fast

failed, imported = [], []
def record(name):
    failed.append(f"{name}: cannot walk into it")
for module in pkgutil.walk_packages(clear_fast.__path__, "clear_fast.", onerror=record):
    if module.name.rsplit(".", 1)[-1] == "__main__":
        continue  # running it would start the command line
    try:
        importlib.import_module(module.name)
        imported.append(module.name)
    except Exception as error:
        failed.append(f"{module.name}: {type(error).__name__}: {error}")
print(len(imported))
print("\\n".join(failed))
'''
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    count, *failures = done.stdout.strip().split("\n")
    assert [line for line in failures if line] == []
    assert int(count) > 50  # the whole package was walked, not just its top


def test_the_demo_runs_without_langchain_and_says_the_chain_check_was_skipped(tmp_path):
    code = BLOCK_LANGCHAIN + (
        "from clear_fast.cli import main; "
        f"raise SystemExit(main(['demo', '--size', '30', '--streams', 'Balanced', '--budgets', '200,600', "
        f"'--out', {str(tmp_path / 'report')!r}]))"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert "LangChain check: skipped" in done.stdout and "pip install ./integrations/langchain" in done.stdout
    report = json.loads((tmp_path / "report" / "results.json").read_text())
    assert report["experiment"]["chain"]["skipped"]
    assert {row["policy"] for row in report["rows"]} == {
        "CLEAR", "Uniform", "Proportional", "SelfEstimate", "Oracle", "RiskAwareCLEAR", "RiskAware+waves"
    }
    assert (tmp_path / "report" / "pareto.png").stat().st_size > 0
