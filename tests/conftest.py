"""Shared fixtures.

`executor` runs a test once per executor implementation (the numpy reference and the Cython
one): the suite is the spec that both must meet. Every test starts with a fresh default graph.
"""

import zlib

import numpy as np
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


@pytest.fixture(autouse=True)
def module_generators_seeded_by_test(request):
    """Restarts each numpy generator held in a global of the test's module (``RNG =
    np.random.RandomState(5)``) from a seed made of the test's id.

    Without it, a test's inputs depend on which tests of its module drew from the generator
    before it in the same process, and xdist hands each process different tests on each run:
    an input-sensitive assertion (a loss that must halve, a numeric gradient near a kink)
    could then fail once in a while. Seeded by the test's id, each test sees the same inputs
    however the tests are spread, run alone or all together.
    """
    module = getattr(request, "module", None)
    for name, value in vars(module).items() if module is not None else ():
        if isinstance(value, (np.random.RandomState, np.random.Generator)):
            seed = zlib.crc32(f"{request.node.nodeid}::{name}".encode())
            if isinstance(value, np.random.RandomState):
                value.seed(seed)
            else:
                value.bit_generator.state = type(value.bit_generator)(seed).state
