"""Shared fixtures: the repository, the `ebnsim` command line to compare with, its outputs."""

import csv
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = REPO / "models"


@pytest.fixture(scope="session")
def cli() -> pathlib.Path:
    """The release `ebnsim` binary (`EBNSIM_BIN`, else target/release/ebnsim, built if missing)."""
    given = os.environ.get("EBNSIM_BIN")
    if given:
        path = pathlib.Path(given)
        assert path.is_file(), f"EBNSIM_BIN={given} does not exist"
        return path
    path = REPO / "target" / "release" / "ebnsim"
    if not path.is_file():
        subprocess.run(["cargo", "build", "--release", "--bin", "ebnsim"], cwd=REPO, check=True)
    return path


def run_cli(cli, args, out):
    """Runs `ebnsim ARGS --out OUT --quiet`; returns the completed process."""
    return subprocess.run(
        [str(cli), *args, "--out", str(out), "--quiet"], capture_output=True, text=True
    )


def read_spikes_csv(path):
    """spikes.csv as (t float64, i int64): float() reads the shortest round-trip form exactly."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["time", "neuron"]
    t = np.array([float(r[0]) for r in rows[1:]], dtype=np.float64)
    i = np.array([int(r[1]) for r in rows[1:]], dtype=np.int64)
    return t, i


def read_csv_matrix(path):
    """A numeric CSV with a header: (header, K × C float64 array)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    data = np.array([[float(x) for x in r] for r in rows[1:]], dtype=np.float64)
    return rows[0], data.reshape(len(rows) - 1, len(rows[0]))


def read_json(path):
    with open(path) as f:
        return json.load(f)
