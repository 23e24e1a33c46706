"""Partial runs: one step executed piecewise over several `Session.partial_run` calls.

``partial_run_setup(fetches, feeds)`` declares everything the step may feed and fetch and
prunes the graph once, like TF's ``PRunSetup``. Each ``partial_run(handle, fetches, feeds)``
then feeds some of the declared feeds and computes the requested fetches from what is known so
far: the ops it needs that have not run yet are compiled by the session's runtime into a step
(``compile(..., ops=...)``, cached like any other step, so a partial run that repeats reuses its
pieces) and run. Every op output of the step is kept until no later op or pending fetch can
read it, so intermediate results carry over between calls, and each op (a stateful one
included) runs at most once per partial run. When every declared fetch has been fetched the
handle is finished and forgotten.

Misuse is an `InvalidArgumentError` with TF's messages, raised before anything is fed or run,
so a rejected call leaves the partial run as it was. A kernel failure ends the partial run.
"""

import collections.abc
import itertools
import threading

from sessionlib import errors
from sessionlib.client import fetch as fetch_lib
from sessionlib.framework.graph import Operation
from sessionlib.runtime import plan as plan_lib
from sessionlib.runtime.interface import fetched_value

__all__ = ["PartialRuns"]

_handle_numbers = itertools.count()


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


class _PartialRun:
    """The state of one partial run.

    Attributes:
      declared_feeds: the tensors setup allows to feed.
      declared_fetches: the tensors and operations setup allows to fetch.
      order: the setup's pruned ops, topologically ordered.
      values: tensor -> array, for fed tensors and kept op outputs.
      fed: the tensors fed so far.
      executed: the ops run so far.
      fetched: the fetches (tensors and operations) returned so far.
    """

    def __init__(self, declared_feeds, declared_fetches, order):
        self.declared_feeds = frozenset(declared_feeds)
        self.declared_fetches = frozenset(declared_fetches)
        self.order = order
        self.position = {op: index for index, op in enumerate(order)}
        self.values = {}
        self.fed = set()
        self.executed = set()
        self.fetched = set()
        self.lock = threading.Lock()

    @property
    def finished(self):
        return self.fetched >= self.declared_fetches


class PartialRuns:
    """The partial runs of one session, by handle. Thread-safe.

    The session passes itself to each call rather than being held here, so that a session and
    its partial runs form no reference cycle.
    """

    def __init__(self):
        self._runs = {}
        self._lock = threading.Lock()

    def clear(self):
        """Forgets every partial run (the session is closing)."""
        with self._lock:
            self._runs.clear()

    # ---- setup ---------------------------------------------------------------------------

    def setup(self, session, fetches, feeds=None):
        """Declares a partial run of `session`; returns its handle (a string).

        Args:
          session: the owning session.
          fetches: a graph element or a (nested) list of them, as for `Session.run`.
          feeds: a graph element (a Tensor, a name, a SparseTensor) or a list of them.

        Raises:
          RuntimeError: if the graph is empty.
          TypeError, ValueError: for fetches or feeds that are not elements of the graph.
          InvalidArgumentError: for an op placed on a device that does not exist.
        """
        graph = session.graph
        if graph.version == 0:
            raise RuntimeError("The Session graph is empty. Add operations to the graph before "
                               "calling run().")
        if feeds is None:
            feeds = []
        elif not isinstance(feeds, (list, tuple)):
            feeds = [feeds]
        feed_tensors = []
        for feed in feeds:
            for sub_feed in fetch_lib.feed_tensors_for_partial_run(feed):
                tensor = session._feed_key_tensor(sub_feed)
                if tensor not in feed_tensors:
                    feed_tensors.append(tensor)
        fetch_plan = fetch_lib.FetchPlan(graph, fetches)
        order = plan_lib.prune(feed_tensors, fetch_plan.tensors, fetch_plan.targets)
        session._runtime.place(order)  # fail now for ops on devices that do not exist
        run = _PartialRun(feed_tensors, fetch_plan.tensors + fetch_plan.targets, order)
        handle = f"{session._handle};partial_run_{next(_handle_numbers)}"
        with self._lock:
            self._runs[handle] = run
        return handle

    # ---- run -----------------------------------------------------------------------------

    def run(self, session, handle, fetches, feed_dict=None):
        """Feeds `feed_dict` into the partial run `handle` and computes `fetches`.

        Returns:
          The fetched values, in the structure of `fetches`.

        Raises:
          InvalidArgumentError: for a bogus or finished handle, a feed or fetch that setup did
            not declare or that was already fed or fetched, or a fetch that needs a declared
            feed not fed yet.
          TypeError, ValueError: for feed keys or values `Session.run` would reject.
          OpError: when a kernel fails (the partial run is then over).
        """
        with self._lock:
            run = self._runs.get(handle) if isinstance(handle, str) else None
        if run is None:
            raise _invalid("Must run 'setup' before performing partial runs!")
        with run.lock:
            new_feeds = self._checked_feeds(session, run, feed_dict)
            fetch_plan = fetch_lib.FetchPlan(session.graph, fetches)
            requested = fetch_plan.tensors + fetch_plan.targets
            for element in requested:
                if element not in run.declared_fetches:
                    raise _invalid(f"The fetch {element.name} was not specified in "
                                   "partial_run_setup.")
                if element in run.fetched:
                    raise _invalid(f"The fetch {element.name} has already been fetched.")
            available = set(run.values)
            available.update(new_feeds)
            needed = self._ops_to_run(run, available, fetch_plan.tensors, fetch_plan.targets)
            for tensor, value in new_feeds.items():
                run.values[tensor] = value
                run.fed.add(tensor)
            try:
                self._execute(session, run, needed)
            except BaseException:
                # The step's state is unknown after a failed kernel: the partial run is over.
                with self._lock:
                    self._runs.pop(handle, None)
                raise
            run.fetched.update(requested)
            raw = [run.values[t] for t in fetch_plan.tensors]
            self._release_dead_values(run)
            results = []
            for tensor, value in zip(fetch_plan.tensors, raw):
                if tensor in run.values and value.flags.writeable:
                    # Later calls still read this value: the caller gets a copy to change.
                    value = value.copy()
                results.append(value if tensor in run.fed else fetched_value(value))
            if run.finished:
                with self._lock:
                    self._runs.pop(handle, None)
        return fetch_plan.build(results, session)

    def _checked_feeds(self, session, run, feed_dict):
        """The converted feeds of one call, after TF's partial-run checks."""
        from sessionlib.client import session as session_lib

        new_feeds = {}
        if not feed_dict:
            return new_feeds
        if not isinstance(feed_dict, collections.abc.Mapping):
            raise TypeError(f"feed_dict must be a dictionary or collections.abc.Mapping, not "
                            f"{type(feed_dict).__name__}")
        for key, value in feed_dict.items():
            for sub_key, sub_value in fetch_lib.expand_feed(key, value):
                tensor = session._feed_key_tensor(sub_key)
                if tensor not in run.declared_feeds:
                    raise _invalid(f"The feed {tensor.name} was not specified in "
                                   "partial_run_setup.")
                if tensor in run.fed or tensor in new_feeds:
                    raise _invalid(f"The feed {tensor.name} has already been fed.")
                new_feeds[tensor] = session_lib.convert_feed_value(tensor, sub_value)
        return new_feeds

    @staticmethod
    def _ops_to_run(run, available, fetch_tensors, target_ops):
        """The ops not yet run that the fetches need, in the setup's order.

        Raises:
          InvalidArgumentError: if they need a declared feed that has not been fed.
        """
        def unfed(tensor):
            raise _invalid(f"Fetch {tensor.name} can't be computed from the feeds that "
                           "have been fed so far.")

        needed = plan_lib.needed_ops(fetch_tensors, target_ops, available, run.executed,
                                     run.declared_feeds, unfed)
        return sorted(needed, key=run.position.__getitem__)

    @staticmethod
    def _execute(session, run, ops):
        """Runs `ops` (ordered) and keeps all their outputs in `run.values`."""
        if not ops:
            return
        produced = {t for op in ops for t in op._outputs}
        inputs = []
        for op in ops:
            for tensor in op._inputs:
                if tensor not in produced and tensor not in inputs:
                    inputs.append(tensor)
        # A fed output keeps its fed value; the op still runs (its other outputs may matter).
        outputs = tuple(t for op in ops for t in op._outputs if t not in run.fed)
        step = session._runtime.compile(tuple(inputs), outputs, (), ops=tuple(ops))
        values = step.run([run.values[tensor] for tensor in inputs], session._run_context(None))
        run.executed.update(ops)
        run.values.update(zip(outputs, values))

    @staticmethod
    def _release_dead_values(run):
        """Drops kept values that no op still to run and no pending fetch can read."""
        live = {element for element in run.declared_fetches
                if element not in run.fetched and not isinstance(element, Operation)}
        for op in run.order:
            if op not in run.executed:
                live.update(op._inputs)
        for tensor in [t for t in run.values if t not in live]:
            del run.values[tensor]
