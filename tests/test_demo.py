"""tools/demo.py, the Quickstart's first command, runs and writes only into its output folder."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_writes_its_trace_and_picture_into_its_folder(tmp_path):
    out = tmp_path / "pictures"
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "demo.py"), "--size", "32", "--layers", "1",
         "--runs", "4", "--out", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stdout + result.stderr

    assert sorted(os.listdir(tmp_path)) == ["pictures"]  # nothing in the current folder
    written = set(os.listdir(out))
    assert {"trace.json", "placement.dot"} <= written <= {"trace.json", "placement.dot",
                                                          "placement.svg"}
    events = json.loads((out / "trace.json").read_text())["traceEvents"]
    assert any("MatMul" in event.get("name", "") for event in events)
    assert (out / "placement.dot").read_text().startswith("digraph placement {")

    lines = result.stdout.splitlines()
    assert "branch1/MatMul: (MatMul): /job:localhost/replica:0/task:0/device:CPU:1" in lines
    assert any(line.lstrip().startswith("speed-up") and "median of the 4 step pairs" in line
               for line in lines)
    verdict = next(line.lstrip() for line in lines if "MEANINGFUL" in line
                   or line.lstrip().startswith("Meaningful:"))
    assert verdict.startswith(("Meaningful:", "NOT MEANINGFUL:")), verdict

    # The split classifier trains: its loss falls, and each device runs the gradients and the
    # Adam updates of its own layer.
    losses = [float(line.split("loss")[1].split()[0]) for line in lines
              if line.lstrip().startswith("step ") and "loss" in line]
    assert len(losses) >= 2 and losses[-1] < 0.8 * losses[0], losses
    assert any(line.strip().startswith("CPU:0:") and "(of layer1)" in line
               and "layer1/w" in line for line in lines), lines
    assert any(line.strip().startswith("CPU:1:") and "(of layer2)" in line
               and "layer2/w" in line for line in lines), lines
    assert lines[-1].lstrip().startswith("The loss fell from")
