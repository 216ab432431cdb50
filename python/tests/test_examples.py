"""The examples run and their own checks pass."""

import subprocess
import sys

from conftest import REPO


def test_nest_style_example(tmp_path):
    fig = tmp_path / "raster.png"
    done = subprocess.run(
        [sys.executable, str(REPO / "python" / "examples" / "nest_style.py"), "--out", str(fig)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "spikes" in done.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no figure" in done.stdout
    else:
        assert fig.stat().st_size > 10_000
