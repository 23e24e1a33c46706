"""Graph rewrites: the optimizer passes a step's nodes go through once, when it is compiled.

Design. A step is compiled once and run many times, so work done here is paid once and saved on
every run. The passes are TF grappler's, each a function ``pass(nodes, step) -> nodes`` over
one device's `plan.Node` list (in execution order), run in this order:

1. ``arithmetic``: algebraic simplification (``pow`` by a constant exponent, ``x * 1``,
   ``neg(neg(x))``, casts to the same dtype, inverse transposes, identity chains, constant
   scalars in a chain);
2. ``constant_folding``: a stateless subgraph whose inputs are all constants is evaluated now
   and becomes a ``Const`` node;
3. ``cse``: identical stateless nodes (same op, inputs and attrs) run once;
4. ``remapper``: ``MatMul``/``Conv2D`` + ``BiasAdd`` (+ activation) become one fused op.

After them, ``plan.rewrite`` fuses elementwise chains (``runtime/fusion.py``) and groups
variable updates (``runtime/update_grouping.py``).

Where it runs: per device, on the same node lists as fusion (``plan.rewrite``), after placement,
so that a rewrite never moves work across devices and every node it makes runs where the nodes
it replaced would have run. Rewrites only look at registrations (`OpDef.stateful`, kernel
names) and at op types that TF's grappler names too; they never run on the per-run path.

Rules every pass keeps:
  * A fed value wins: a node whose output is fed, and everything computed from a fed value,
    keeps its inputs; a pass never replaces a fed key by another value. (TF's arithmetic
    optimizer can drop such feeds; sessionlib keeps the documented behaviour.)
  * Fetched values survive: a node whose output is fetched may be replaced, but its
    replacement writes the same key, so the fetch still finds it.
  * Stateful ops (variables, queues, random ops, ``_Send``/``_Recv``) are never removed,
    merged, folded or reordered.
  * A node made by a rewrite names what it replaced: ``attrs['_rewritten_from']`` is the tuple
    of the replaced ops' names, ``origin`` is the origin of the op whose value it computes (so
    errors and traces map back to it), and ``name`` is a fresh name. Traces and partition
    graphs show it (``runtime/partition.py``, ``runtime/tracing.py``).
  * A value a rewrite introduces (an intermediate result) is keyed by a `RewrittenValue`,
    which carries its dtype and static shape as a graph tensor does.

Switches: ``ConfigProto.graph_options.rewrite_options`` (TF's ``RewriterConfig``) turns each pass
off (``OFF = 2``), ``disable_meta_optimizer`` turns all off, and steps with fewer nodes than
``min_graph_nodes`` are left alone; ``optimizer_options.opt_level = L0`` turns every rewrite
off, fusion included (see `RewriteOptions.from_config`).
"""

import itertools

from sessionlib.framework.tensor_shape import TensorShape

__all__ = ["RewriteOptions", "ALL", "NONE", "RewrittenValue", "Step", "optimize",
           "register_pass", "PASS_NAMES"]

# The passes, in the order they run; each name is also its RewriteOptions switch.
PASS_NAMES = ("arithmetic_optimization", "constant_folding", "common_subgraph_elimination",
              "remapping")

# Steps smaller than this are not rewritten when min_graph_nodes is 0 (TF's default too).
DEFAULT_MIN_GRAPH_NODES = 4

_OFF = 2   # RewriterConfig.OFF


class RewriteOptions:
    """Which rewrites a session's steps get.

    Attributes:
      enabled: the passes that run, a frozenset of names from `PASS_NAMES`.
      min_graph_nodes: steps with fewer nodes are not rewritten (below 0: never skipped).
    """

    __slots__ = ("enabled", "min_graph_nodes")

    def __init__(self, enabled=PASS_NAMES, min_graph_nodes=DEFAULT_MIN_GRAPH_NODES):
        unknown = set(enabled) - set(PASS_NAMES)
        if unknown:
            raise ValueError(f"Unknown rewrites {sorted(unknown)}; known: {PASS_NAMES}")
        self.enabled = frozenset(enabled)
        self.min_graph_nodes = min_graph_nodes

    @classmethod
    def from_config(cls, config):
        """The options of a session's `ConfigProto`.

        ``graph_options.optimizer_options.opt_level = L0`` or
        ``rewrite_options.disable_meta_optimizer`` turn every rewrite off; otherwise each
        pass runs unless its `RewriterConfig` toggle is ``OFF``.
        """
        graph_options = config.graph_options
        rewrite = graph_options.rewrite_options
        if graph_options.optimizer_options.opt_level < 0 or rewrite.disable_meta_optimizer:
            return NONE
        enabled = [name for name in PASS_NAMES if getattr(rewrite, name) != _OFF]
        min_nodes = rewrite.min_graph_nodes or DEFAULT_MIN_GRAPH_NODES
        return cls(enabled, min_nodes)

    def __repr__(self):
        return (f"RewriteOptions({sorted(self.enabled)}, "
                f"min_graph_nodes={self.min_graph_nodes})")


ALL = RewriteOptions()
NONE = RewriteOptions(())


class RewrittenValue:
    """The key of a value that a rewrite introduced (not a graph tensor).

    It is hashable by identity and has what passes read of a graph tensor: `dtype`, `shape`
    (a `TensorShape`) and `name`.
    """

    __slots__ = ("name", "dtype", "shape", "__weakref__")

    def __init__(self, name, dtype, shape=None):
        self.name = name
        self.dtype = dtype
        self.shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)

    def get_shape(self):
        return self.shape

    def __repr__(self):
        return f"<RewrittenValue {self.name} {self.dtype.name} {self.shape}>"


class Step:
    """What a pass knows of the step besides its nodes.

    Attributes:
      fed: the set of fed keys.
      fetched: the set of fetched keys.
      options: the `RewriteOptions`.
    """

    __slots__ = ("fed", "fetched", "options", "_counter")

    def __init__(self, feed_keys, fetch_keys, options):
        self.fed = set(feed_keys)
        self.fetched = set(fetch_keys)
        self.options = options
        self._counter = itertools.count()

    def fresh_name(self, base):
        """A node name no other rewrite of this step uses: ``base/_rewrite_N``."""
        return f"{base}/_rewrite_{next(self._counter)}"


# name -> pass function; filled by the pass modules below as they register.
_PASSES = {}


def register_pass(name):
    """A decorator registering ``pass(nodes, step) -> nodes`` as the pass called `name`.

    Raises:
      ValueError: for a name not in `PASS_NAMES`, or one registered twice.
    """
    if name not in PASS_NAMES:
        raise ValueError(f"Unknown rewrite {name!r}; known: {PASS_NAMES}")

    def decorate(function):
        if name in _PASSES:
            raise ValueError(f"Rewrite {name!r} is already registered")
        _PASSES[name] = function
        return function

    return decorate


def optimize(nodes, feed_keys, fetch_keys, options=None):
    """Runs the enabled passes over one device's nodes.

    Args:
      nodes: `plan.Node`s in execution order.
      feed_keys, fetch_keys: the fed and fetched values.
      options: a `RewriteOptions`; None: `ALL`.

    Returns:
      The new node list (the input list itself when no pass changed anything).
    """
    if options is None:
        options = ALL
    if not options.enabled or len(nodes) < options.min_graph_nodes:
        return nodes
    step = Step(feed_keys, fetch_keys, options)
    for name in PASS_NAMES:
        function = _PASSES.get(name)
        if function is not None and name in options.enabled:
            nodes = function(nodes, step)
    return nodes


# The pass modules register themselves on import (each adds one line here).
from sessionlib.runtime.optimizer import arithmetic  # noqa: E402,F401
from sessionlib.runtime.optimizer import constant_folding  # noqa: E402,F401
from sessionlib.runtime.optimizer import cse  # noqa: E402,F401
from sessionlib.runtime.optimizer import remapper  # noqa: E402,F401
