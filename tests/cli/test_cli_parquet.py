"""Parquet in and out, large inputs in columns, and a command that always exits cleanly after pyarrow worked."""

from __future__ import annotations

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import clear_fast as cf


def _queries(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "ID": [f"q{i}" for i in range(n)],
        "tau": np.round(rng.uniform(40, 1500, n), 1),
        "alpha": rng.uniform(0.008, 0.012, n),
        "beta": rng.uniform(0.004, 0.006, n),
        "weight": rng.choice([1.0, 2.0], n),
    })


def _reference(table: pa.Table, budget: int) -> cf.Allocation:
    column = lambda name: table.column(name).to_numpy()  # noqa: E731
    curves = cf.SurgeCurves(column("tau"), column("alpha"), column("beta"), weight=column("weight"))
    return cf.allocate(curves, budget)


def test_parquet_in_parquet_out_with_types(cli, tmp_path):
    table = _queries(300, seed=1)
    pq.write_table(table, tmp_path / "q.parquet")
    done = cli("allocate", str(tmp_path / "q.parquet"), "--budget", "60000", "--out", str(tmp_path / "caps.parquet"))
    assert done.returncode == 0, done.stderr
    caps = pq.read_table(tmp_path / "caps.parquet")
    expected = _reference(table, 60_000)
    assert caps.column_names == ["id", "tokens", "funded", "breakeven_price", "reason"]
    assert caps.schema.types[:4] == [pa.string(), pa.int64(), pa.bool_(), pa.float64()]
    assert caps.column("id").to_pylist() == table.column("ID").to_pylist()
    np.testing.assert_array_equal(caps.column("tokens").to_numpy(), expected.tokens)
    np.testing.assert_array_equal(caps.column("breakeven_price").to_numpy(), expected.breakeven)
    assert caps.column("reason").to_pylist() == [expected.why(i).split(": ", 1)[1] for i in range(300)]
    assert int(caps.column("tokens").to_numpy().sum()) <= 60_000


def test_parquet_through_stdin_and_stdout(cli, tmp_path):
    table = _queries(50, seed=2)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    done = cli("allocate", "-", "--input-format", "parquet", "--budget", "9000", "--format", "parquet",
               stdin=sink.getvalue().to_pybytes())
    assert done.returncode == 0, done.stderr
    caps = pq.read_table(pa.BufferReader(done.stdout))
    assert caps.column("tokens").to_pylist() == _reference(table, 9000).tokens.tolist()


def test_a_large_table_in_every_format(cli, tmp_path):
    # more rows than one block of the reason column and of the writers (2**16 rows each): the blocks must line up
    n = 140_000
    table = _queries(n, seed=3)
    budget = 250 * n
    expected = _reference(table, budget)
    pq.write_table(table, tmp_path / "q.parquet")
    done = cli("allocate", str(tmp_path / "q.parquet"), "--budget", str(budget), "--out", str(tmp_path / "caps.jsonl"))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (tmp_path / "caps.jsonl").read_text().splitlines()]
    assert [row["tokens"] for row in rows] == expected.tokens.tolist()
    assert rows[-1]["id"] == f"q{n - 1}" and rows[-1]["reason"] == expected.why(n - 1).split(": ", 1)[1]
    with (tmp_path / "q.csv").open("w", newline="") as stream:  # and back through CSV
        writer = csv.writer(stream)
        writer.writerow(["id", "tau", "alpha", "beta", "weight"])
        writer.writerows(zip(*[table.column(k).to_pylist() for k in range(5)]))
    done = cli("allocate", str(tmp_path / "q.csv"), "--budget", str(budget))
    assert done.returncode == 0, done.stderr
    caps = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [int(row["tokens"]) for row in caps] == expected.tokens.tolist()
    assert [float(row["breakeven_price"]) for row in caps] == expected.breakeven.tolist()


def test_the_parquet_command_exits_cleanly_every_time(cli, tmp_path):
    """pyarrow's threads must never outlive their work: 50 runs, each status 0 and a clean stderr."""
    table = _queries(2000, seed=4)
    pq.write_table(table, tmp_path / "q.parquet")
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    stdin = sink.getvalue().to_pybytes()
    expected = _reference(table, 300_000).tokens.tolist()

    def run(k: int) -> None:
        out = tmp_path / f"caps{k}.{('parquet', 'csv', 'jsonl')[k % 3]}"
        source = [str(tmp_path / "q.parquet")] if k % 2 else ["-", "--input-format", "parquet"]
        done = cli("allocate", *source, "--budget", "300000", "--out", str(out), stdin=stdin if k % 2 == 0 else None)
        stderr = done.stderr.decode() if isinstance(done.stderr, bytes) else done.stderr
        assert done.returncode == 0, (k, done.returncode, stderr)
        assert stderr.count("\n") == 1 and stderr.startswith("shadow price"), (k, stderr)
        if out.suffix == ".parquet":
            assert pq.read_table(out).column("tokens").to_pylist() == expected

    with ThreadPoolExecutor(2) as pool:  # two commands at a time
        list(pool.map(run, range(50)))
