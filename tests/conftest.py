"""Shared fixtures.

`executor` runs a test once per executor implementation (the numpy reference and the Cython
one): the suite is the spec that both must meet. Every test starts with a fresh default graph.
"""

import pytest

# Checks at the end of every test process that no shared memory or device worker leaked.
pytest_plugins = ["_leak_check"]

import sessionlib as tf
from sessionlib.runtime import executor as executor_lib

EXECUTORS = ("reference", "cython")


@pytest.fixture(params=EXECUTORS)
def executor(request):
    """Makes new sessions use each executor in turn; yields its name."""
    previous = executor_lib.set_default_executor(request.param)
    try:
        yield request.param
    finally:
        executor_lib.set_default_executor(previous)


@pytest.fixture(autouse=True)
def fresh_default_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()
