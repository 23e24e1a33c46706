"""tools/demo.py, the Quickstart's first command, runs and writes only into its output folder."""

import json
import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """Runs the demo once (small) for this module's tests: (its cwd, its --out, the result)."""
    cwd = tmp_path_factory.mktemp("demo")
    out = cwd / "pictures"
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "demo.py"), "--size", "32", "--layers", "1",
         "--runs", "4", "--out", str(out)],
        cwd=cwd, capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stdout + result.stderr
    return cwd, out, result


def test_demo_writes_its_trace_and_picture_into_its_folder(demo_run):
    tmp_path, out, result = demo_run
    assert sorted(os.listdir(tmp_path)) == ["pictures"]  # nothing in the current folder
    written = set(os.listdir(out))
    assert {"trace.json", "placement.dot", "tensorboard", "training_step.svg",
            "training_placement.dot"} <= written <= {
        "trace.json", "placement.dot", "placement.svg", "tensorboard", "training_step.svg",
        "training_placement.dot", "training_placement.svg"}   # (the .svg: with Graphviz)
    # The training step's timeline: a lane per device and the transfers between them.
    svg = ET.fromstring((out / "training_step.svg").read_text())
    lanes = [g.get("data-device")[-5:] for g in svg.iter() if g.get("class") == "lane"]
    assert lanes == ["CPU:0", "CPU:1"]
    assert any(element.get("class") == "transfer" for element in svg.iter())
    dot = (out / "training_placement.dot").read_text()
    assert "feed tower0/x:0" in dot and "feed tower1/x:0" in dot   # each tower's half batch
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

    # The headline: the same two-tower training on one device and on two. The loss falls,
    # the same on both; each tower ran on its own device, and CPU:0 (the variables' device)
    # applied the averaged gradients; both step times are printed.
    printed = _printed_losses(lines)
    assert len(printed) >= 2 and printed[150][1] < 0.8 * printed[0][1], printed
    for one_device, two_devices in printed.values():
        assert one_device == pytest.approx(two_devices, rel=1e-3, abs=1e-4)
    assert any(line.strip().startswith("CPU:0: tower0 (") and "layer1/w" in line
               for line in lines), lines
    assert any(line.strip().startswith("CPU:1: tower1 (") and "Adam" not in line
               for line in lines), lines
    assert any(line.lstrip().startswith("The loss fell from")
               and line.endswith("the same on one device and on two.") for line in lines)
    step_time = next(line.strip() for line in lines if line.lstrip().startswith("Step time"))
    assert "one device" in step_time and "two devices" in step_time and "as fast on two" \
        in step_time


def _printed_losses(lines):
    """{step: (loss on one device, loss on two devices)} of the demo's training lines
    ("step   30   loss  0.9999  0.9999   ...")."""
    return {int(line.split()[1]): tuple(map(float, line.split("loss")[1].split()[:2]))
            for line in lines if line.lstrip().startswith("step ") and "loss" in line}


def test_demo_log_directory_is_read_by_tensorboard(demo_run):
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator",
        reason="tensorboard is in the test extra (pip install tensorboard)")
    _, out, result = demo_run
    logdir = out / "tensorboard"
    lines = result.stdout.splitlines()
    assert lines[-1].strip() == f"tensorboard --logdir {shlex.quote(str(logdir))}"
    assert sorted(os.listdir(logdir)) == ["placement", "training"]  # TensorBoard's two runs
    devices = {"/device:CPU:0", "/device:CPU:1"}

    # The two-branch model: every node has a device, each branch its own; its traced step.
    placement = event_accumulator.EventAccumulator(str(logdir / "placement"))
    placement.Reload()
    assert placement.Tags()["graph"] and placement.Tags()["run_metadata"] == ["step_1"]
    nodes = {node.name: node.device for node in placement.Graph().node}
    assert set(nodes.values()) == devices
    assert nodes["branch0/MatMul"] == "/device:CPU:0"
    assert nodes["branch1/MatMul"] == "/device:CPU:1"
    step_stats = placement.RunMetadata("step_1").step_stats
    ran = {dev.device.split("/")[-1][len("device:"):]: {n.node_name for n in dev.node_stats}
           for dev in step_stats.dev_stats}
    assert "branch0/MatMul" in ran["CPU:0"] and "branch1/MatMul" in ran["CPU:1"]

    # The training run: the two-device training's graph (the session's placement fills in
    # the nodes without an explicit device), the loss of every step, and one traced step.
    training = event_accumulator.EventAccumulator(
        str(logdir / "training"), size_guidance={event_accumulator.SCALARS: 0})
    training.Reload()
    tags = training.Tags()
    assert tags["graph"] and tags["run_metadata"] == ["step_150"]
    assert tags["scalars"] == ["loss"]
    nodes = {node.name: node.device for node in training.Graph().node}
    assert set(nodes.values()) == devices
    assert nodes["layer1/w"] == "/device:CPU:0" and nodes["tower0/loss"] == "/device:CPU:0"
    assert nodes["tower1/loss"] == "/device:CPU:1"
    assert {dev.device[-5:] for dev in
            training.RunMetadata("step_150").step_stats.dev_stats} == {"CPU:0", "CPU:1"}

    scalars = training.Scalars("loss")
    assert [s.step for s in scalars] == list(range(150))
    losses = [s.value for s in scalars]
    # Each scalar is the two-device loss the demo printed for that step (before the step's
    # update).
    for step, (_, printed) in _printed_losses(lines).items():
        if step < 150:
            assert round(losses[step], 4) == printed, (step, losses[step], printed)
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:10]), losses
