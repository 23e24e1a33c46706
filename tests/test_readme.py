"""The README's examples run as written, and print what their comments say.

Each ```python block of README.md runs in a fresh interpreter (sessions start worker processes
and set process-wide state, which must not leak into the test process), from the repository
root so that it imports this checkout. A call ``print(...)  # text`` (or with ``# text`` alone on
the next line) must print something that `text` starts with: a comment may go on to explain
the value (``# [1, 1]: one op, run once``).
The Quickstart's shell commands are checked for their shape only; running them means building
the package (``.ci/run`` and ``fresh-check`` do that).
"""

import io
import json
import os
import re
import subprocess
import sys
import tokenize

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
TIMEOUT_S = 120

# Runs the snippet given on stdin with a `print` that also records (line, text) of each call
# that writes to stdout, and writes the records as JSON to the file named by argv[1].
_HARNESS = """
import builtins, io, json, sys

def recording_print(*args, sep=" ", end="\\n", file=None, flush=False):
    if file is None:
        text = io.StringIO()
        builtins.print(*args, sep=sep, end="", file=text)
        records.append((sys._getframe(1).f_lineno, text.getvalue()))
    builtins.print(*args, sep=sep, end=end, file=file, flush=flush)

records = []
source = sys.stdin.read()
try:
    exec(compile(source, "README.md snippet", "exec"),
         {"__name__": "__main__", "print": recording_print})
finally:
    with open(sys.argv[1], "w") as out:
        json.dump(records, out)
"""


def _fenced_blocks(language):
    """(line number of the opening fence, text) of each ```language block of the README."""
    with open(README) as handle:
        text = handle.read()
    return [(text.count("\n", 0, match.start()) + 1, match.group(1))
            for match in re.finditer(rf"^```{language}\n(.*?)^```", text, re.M | re.S)]


def _print_comments(source):
    """{line number: comment} of the `print` calls of `source` that say what they print: in a
    comment at the end of the line, or else in a comment line right below it."""
    comments, full_line_comments = {}, {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            text = token.string.lstrip("#").strip()
            if token.line[:token.start[1]].strip():
                comments[token.start[0]] = text
            else:
                full_line_comments[token.start[0]] = text
    return {number: comments.get(number, full_line_comments.get(number + 1))
            for number, line in enumerate(source.splitlines(), 1)
            if line.lstrip().startswith("print(")
            and (number in comments or number + 1 in full_line_comments)}


PYTHON_BLOCKS = _fenced_blocks("python")


def test_readme_has_python_examples():
    assert len(PYTHON_BLOCKS) >= 3


@pytest.mark.parametrize("fence_line, source", PYTHON_BLOCKS,
                         ids=[f"README.md:{line}" for line, _ in PYTHON_BLOCKS])
def test_readme_example_runs_and_prints_what_it_says(fence_line, source, tmp_path):
    records_path = tmp_path / "printed.json"
    result = subprocess.run([sys.executable, "-c", _HARNESS, str(records_path)], input=source,
                            cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, (
        f"the example at README.md:{fence_line} failed:\n{result.stdout}\n{result.stderr}")

    comments = _print_comments(source)
    assert comments, "no example prints what it computes"
    printed_lines = set()
    for line, printed in json.loads(records_path.read_text()):
        if line in comments:
            assert comments[line].startswith(printed), (
                f"README.md:{fence_line + line}: prints {printed!r}, "
                f"but its comment says {comments[line]!r}")
            printed_lines.add(line)
    assert printed_lines == set(comments), "a commented print did not run"


def test_quickstart_is_two_commands_demo_then_tests():
    """fresh-check and .ci/run read the first code block: the demo, then the test suite."""
    first_block = re.search(r"^```\w*\n(.*?)^```", open(README).read(), re.M | re.S).group(1)
    commands = [line for line in first_block.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 2
    assert commands[0].startswith("pip install -e ") and "python tools/demo.py" in commands[0]
    assert commands[1].startswith("pip install -e ") and "pytest -n auto" in commands[1]


def test_save_restore_watch_example_is_one_of_the_run_examples():
    """The "Save, restore, watch in TensorBoard" section keeps its example, which
    test_readme_example_runs_and_prints_what_it_says runs: a FileWriter, a Saver's save, a
    restore into a new session and from the .meta alone, a MonitoredTrainingSession that
    resumes, and the tensorboard command."""
    text = open(README).read()
    section = re.search(r"^## Save, restore, watch in TensorBoard\n(.*?)^## ", text,
                        re.M | re.S)
    assert section, "the README lost its save, restore, watch section"
    blocks = "\n".join(source for _, source in PYTHON_BLOCKS if source in section.group(1))
    for call in ("tf.summary.FileWriter(", "tf.train.Saver(", "saver.save(", "saver.restore(",
                 "tf.train.latest_checkpoint(", "tf.train.import_meta_graph(",
                 "tf.train.MonitoredTrainingSession("):
        assert call in blocks, call
    assert "tensorboard --logdir" in section.group(1)
