"""runtime/settings.py reads every SESSIONLIB_* variable, and the README lists them."""

import pathlib
import re

import pytest

from sessionlib.runtime import fusion, settings

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value, expected", [
    (None, True), ("1", True), ("yes", True), ("0", False), ("false", False), (" OFF ", False),
    ("no", False),
])
def test_fusion_enabled(value, expected):
    environ = {} if value is None else {"SESSIONLIB_FUSION": value}
    assert settings.fusion_enabled(environ) is expected


def test_settings_are_read_when_asked(monkeypatch):
    monkeypatch.setenv("SESSIONLIB_FUSION", "0")
    assert not settings.fusion_enabled() and not fusion.enabled()
    monkeypatch.delenv("SESSIONLIB_FUSION")
    assert settings.fusion_enabled() and fusion.enabled()


def test_executor_name():
    assert settings.executor_name({}) == "cython"
    assert settings.executor_name({"SESSIONLIB_EXECUTOR": "reference"}) == "reference"


def test_start_method():
    assert settings.start_method("forkserver", {}) == "forkserver"
    assert settings.start_method("forkserver", {"SESSIONLIB_START_METHOD": "spawn"}) == "spawn"


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), ("1", True),
                                             ("0", False), ("2", None)])
def test_worker_processes(value, expected):
    environ = {} if value is None else {"SESSIONLIB_WORKERS": value}
    assert settings.worker_processes(environ) is expected


@pytest.mark.parametrize("value, expected", [(None, True), ("1", True), ("0", False)])
def test_malloc_tuning(value, expected):
    environ = {} if value is None else {"SESSIONLIB_MALLOC_TUNING": value}
    assert settings.malloc_tuning(environ) is expected


_READ = re.compile(r"""(?:environ(?:\.get)?|getenv)\s*[\[(]\s*["'](SESSIONLIB_\w+)""")

def test_only_the_settings_module_reads_the_environment():
    package = ROOT / "sessionlib"
    readers = set()
    for path in package.rglob("*"):
        if path.suffix not in (".py", ".pyx", ".pxd") or path.name == "settings.py":
            continue
        for name in _READ.findall(path.read_text()):
            readers.add((path.relative_to(package).as_posix(), name))
    assert not readers, readers


def test_the_readme_lists_every_setting():
    names = set(re.findall(r"SESSIONLIB_\w+", (ROOT / "sessionlib/runtime/settings.py")
                           .read_text()))
    names |= set(_READ.findall((ROOT / "setup.py").read_text()))
    assert {"SESSIONLIB_FUSION", "SESSIONLIB_MARCH", "SESSIONLIB_NO_OPENMP"} <= names
    table = [line for line in (ROOT / "README.md").read_text().splitlines()
             if line.startswith("| `SESSIONLIB_")]
    listed = {re.match(r"\| `(SESSIONLIB_\w+)`", line).group(1) for line in table}
    assert names <= listed
