"""Mistakes a person can make get one line saying what is wrong and how to fix it, and exit status 2."""

from __future__ import annotations

import json

import pytest

from cli_helpers import hiding

@pytest.fixture
def cli(cli_each_reader):
    """Every test here runs twice: reading and writing with pyarrow, and as if it were not installed."""
    return cli_each_reader


GOOD_CSV = "id,tau,alpha,beta\na,100,0.01,0.005\nb,300,0.01,0.005\n"

# (name, files to create, arguments, stdin, words the message must contain)
CASES = [
    ("missing file", {}, ["allocate", "{tmp}/nope.csv", "--budget", "100"], None, ["nope.csv does not exist", "check the path"]),
    ("negative budget", {"q.csv": GOOD_CSV}, ["allocate", "{tmp}/q.csv", "--budget", "-5"], None, ["--budget", ">= 0", "-5"]),
    ("fractional budget", {"q.csv": GOOD_CSV}, ["allocate", "{tmp}/q.csv", "--budget", "10.5"], None, ["--budget", "whole number"]),
    ("missing budget", {"q.csv": GOOD_CSV}, ["allocate", "{tmp}/q.csv"], None, ["--budget", "required"]),
    ("empty file", {"q.csv": ""}, ["allocate", "{tmp}/q.csv", "--budget", "100"], None, ["empty", "header"]),
    ("header only", {"q.csv": "id,tau,alpha,beta\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100"], None, ["no queries", "one query per row"]),
    ("empty stdin", {}, ["allocate", "-", "--budget", "100"], "", ["stdin", "empty"]),
    ("no tau column", {"q.csv": "id,t,alpha,beta\na,1,0.01,0.005\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100"], None, ["no `tau` column", "columns found: id, t, alpha, beta"]),
    ("not a number", {"q.csv": "id,tau,alpha,beta\na,100,0.01,0.005\nb,lots,0.01,0.005\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100"], None, ["line 3", "`tau`", "not a number", "'lots'"]),
    ("negative tau", {"q.csv": "tau,alpha,beta\n100,0.01,0.005\n-4,0.01,0.005\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100"], None, ["line 3", "`tau`", ">= 0"]),
    ("no alpha anywhere", {"q.csv": "id,tau\na,100\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100"], None, ["`alpha`", "--profile"]),
    ("zero beta option", {"q.csv": "id,tau\na,100\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100", "--alpha", "0.01", "--beta", "0"], None, ["--beta", "> 0"]),
    ("duplicate ids", {"q.csv": "id,tau,alpha,beta\na,100,0.01,0.005\na,300,0.01,0.005\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100"], None, ["'a' appears twice", "unique"]),
    ("min above max", {"q.csv": "tau,alpha,beta,min_tokens,max_tokens\n100,0.01,0.005,500,200\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100"], None, ["line 2", "min_tokens 500", "max_tokens 200"]),
    ("semicolon csv", {"q.csv": "id;tau;alpha;beta\na;100;0.01;0.005\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100"], None, ["separated by semicolons", "comma-separated"]),
    ("unknown extension", {"q.txt": GOOD_CSV}, ["allocate", "{tmp}/q.txt", "--budget", "100"], None, ["--input-format"]),
    ("bad jsonl line", {"q.jsonl": '{"tau": 100, "alpha": 0.01, "beta": 0.005}\n{tau: 3}\n'}, ["allocate", "{tmp}/q.jsonl", "--budget", "100"], None, ["line 2", "not valid JSON"]),
    ("levels without level columns", {"q.csv": GOOD_CSV}, ["allocate", "{tmp}/q.csv", "--budget", "100", "--levels"], None, ["cost_<level>", "utility_<level>"]),
    ("cost without utility", {"q.csv": "cost_low,utility_low,cost_high\n10,0.5,20\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100", "--levels"], None, ["`cost_high` has no `utility_high`"]),
    ("levels with curve options", {"q.csv": "cost_low,utility_low\n10,0.5\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100", "--levels", "--alpha", "0.1"], None, ["--alpha", "does not apply with --levels"]),
    ("missing profile", {"q.csv": "tau\n100\n"}, ["allocate", "{tmp}/q.csv", "--budget", "100", "--profile", "{tmp}/m.json"], None, ["m.json does not exist", "clear-fast fit"]),
    ("not a profile", {"q.csv": "tau\n100\n", "m.json": json.dumps({"alpha": 0.01})}, ["allocate", "{tmp}/q.csv", "--budget", "100", "--profile", "{tmp}/m.json"], None, ["not a clear_fast model profile", "clear-fast fit"]),
    ("profile not json", {"q.csv": "tau\n100\n", "m.json": "{oops"}, ["allocate", "{tmp}/q.csv", "--budget", "100", "--profile", "{tmp}/m.json"], None, ["not valid JSON"]),
    ("output folder missing", {"q.csv": GOOD_CSV}, ["allocate", "{tmp}/q.csv", "--budget", "100", "--out", "{tmp}/no/such/caps.csv"], None, ["does not exist", "--out"]),
    ("unknown command", {}, ["allocat"], None, ["invalid choice", "--help"]),
    ("demo size zero", {}, ["demo", "--size", "0", "--out", "{tmp}/r"], None, ["--size", ">= 1"]),
    ("demo unknown stream", {}, ["demo", "--streams", "Balanced,Spiky", "--out", "{tmp}/r"], None, ["'Spiky'", "Balanced, MostlyEasy"]),
    ("demo bad budgets", {}, ["demo", "--budgets", "100,-3", "--out", "{tmp}/r"], None, ["--budgets", "'-3'"]),
]


@pytest.mark.parametrize("name,files,args,stdin,words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_actionable_line_and_status_2(cli, tmp_path, name, files, args, stdin, words):
    for file_name, content in files.items():
        (tmp_path / file_name).write_text(content)
    done = cli(*[a.replace("{tmp}", str(tmp_path)) for a in args], stdin=stdin)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert lines[0].startswith("clear-fast")
    for word in words:
        assert word in lines[0], lines[0]
    assert done.stdout == ""


def test_parquet_without_pyarrow_says_how_to_install_it(cli, tmp_path):
    shadow = hiding(tmp_path / "shadow", "pyarrow")
    (tmp_path / "q.parquet").write_bytes(b"PAR1")
    (tmp_path / "q.csv").write_text(GOOD_CSV)
    for args in ([str(tmp_path / "q.parquet")], [str(tmp_path / "q.csv"), "--out", str(tmp_path / "caps.parquet")]):
        done = cli("allocate", *args, "--budget", "100", path_first=shadow)
        assert done.returncode == 2
        assert 'pip install "clear-fast[parquet]"' in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback(cli, tmp_path):
    done = cli("allocate", str(tmp_path / "nope.csv"), "--budget", "100", "--debug")
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "CommandError" in done.stderr


def test_demo_without_its_extra_says_what_to_install(cli, tmp_path):
    done = cli("demo", "--size", "10", "--out", str(tmp_path / "r"), path_first=hiding(tmp_path / "shadow", "matplotlib", "rich"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "matplotlib, rich" in done.stderr and 'pip install "clear-fast[demo]"' in done.stderr


def test_allocate_and_fit_need_only_numpy(cli, tmp_path):
    shadow = hiding(tmp_path / "shadow", "matplotlib", "rich", "langchain_core", "scipy")
    (tmp_path / "q.csv").write_text("tau,alpha,beta\n100,0.01,0.005\n")
    done = cli("allocate", str(tmp_path / "q.csv"), "--budget", "500", path_first=shadow)
    assert done.returncode == 0, done.stderr
    from cli_helpers import write_rollout_log

    write_rollout_log(tmp_path / "logs.jsonl", n=10)
    fitted = cli("fit", str(tmp_path / "logs.jsonl"), "--out", str(tmp_path / "m.json"), path_first=shadow)
    assert fitted.returncode == 0, fitted.stderr
    bench = cli("bench", "--sizes", "100", path_first=shadow)
    assert bench.returncode == 2 and "scipy" in bench.stderr
