"""``tf.layers.Layer``: TF 1's layer base, on variable scopes and `get_variable`.

A layer owns a variable scope, chosen the first time it is called (or at construction when a
name is given to one of the functions, as TF's ``_scope=name``), and creates its weights in
it with `get_variable`, so that the weights are ``scope/kernel:0`` and sharing works the TF 1
way: ``reuse=True`` (on the layer or an enclosing `variable_scope`) finds the variables of an
earlier layer of the same scope, and calling one layer object again reuses its own.

Naming follows TF 1 (tf-keras' legacy layers) exactly, which is three separate things:
- the variable scope, made unique per enclosing variable scope by `variable_scope`'s
  ``default_name`` (``dense``, ``dense_1``, ``enc/dense``);
- the ops, built under that scope's original name scope (``dense/MatMul``), so a name scope
  around the call shows in op names but not in variable names, and a second call of the same
  layer gives ``dense/MatMul_1``;
- `Layer.name`, which for an unnamed layer is a per-graph, one-based count of the class
  (``dense_1`` for the first `Dense`), as TF's legacy layers report.

Losses from regularizers go to ``layer.losses`` and to the ``REGULARIZATION_LOSSES``
collection; the layer's updates (batch normalization's moving averages) to ``layer.updates``
and ``UPDATE_OPS``, as TF 1 does in graph mode.
"""

import re
import threading
import weakref

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops import array_ops, math_ops
from sessionlib.ops import variable_scope as vs

__all__ = ["Layer", "InputSpec"]

# Per graph: base name -> how many unnamed layers of it exist (TF's PER_GRAPH_OBJECT_NAME_UIDS).
_NAME_UIDS = weakref.WeakKeyDictionary()
_NAME_UIDS_LOCK = threading.Lock()


def _to_snake_case(name):
    # Keras' rule: 'Conv2DTranspose' -> 'conv2d_transpose', 'Dense' -> 'dense'.
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return "private" + snake if snake[0] == "_" else snake


def _unique_layer_name(base_name):
    graph = graph_lib.get_default_graph()
    with _NAME_UIDS_LOCK:
        uids = _NAME_UIDS.setdefault(graph, {})
        uids[base_name] = uids.get(base_name, 0) + 1
        return f"{base_name}_{uids[base_name]}"


def _contains(items, item):
    # Identity, not ==: Variable and Tensor overload comparison as graph ops.
    return any(existing is item for existing in items)


def _add_to_collection(items, key):
    if not items:
        return
    graph = items[0].graph
    collection = graph.get_collection_ref(key)
    for item in items:
        if not _contains(collection, item):
            collection.append(item)


def _flatten(structure):
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in _flatten(structure[key])]
    return [structure]


def _map_structure(fn, structure):
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: _map_structure(fn, value) for key, value in structure.items()}
    return fn(structure)


class InputSpec:
    """What a layer accepts: `dtype`, `shape`, `ndim`, `min_ndim`, `max_ndim` and `axes`
    (a dict from axis to a required size), checked when the layer is called.
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None):
        self.dtype = dtypes.as_dtype(dtype).name if dtype is not None else None
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape),
                                         ("ndim", self.ndim), ("max_ndim", self.max_ndim),
                                         ("min_ndim", self.min_ndim), ("axes", self.axes))
                 if v]
        return f"InputSpec({', '.join(parts)})"

    def check(self, layer_name, tensor):
        """Raises ValueError (TF's wording) if `tensor` does not fit this spec."""
        shape = tensor.shape
        rank = shape.rank
        if self.ndim is not None and rank is not None and rank != self.ndim:
            raise ValueError(f'Input 0 of layer "{layer_name}" is incompatible with the layer: '
                             f"expected ndim={self.ndim}, found ndim={rank}. Full shape "
                             f"received: {shape}")
        if self.min_ndim is not None and rank is not None and rank < self.min_ndim:
            raise ValueError(f'Input 0 of layer "{layer_name}" is incompatible with the layer: '
                             f"expected min_ndim={self.min_ndim}, found ndim={rank}. Full "
                             f"shape received: {shape}")
        if self.max_ndim is not None and rank is not None and rank > self.max_ndim:
            raise ValueError(f'Input 0 of layer "{layer_name}" is incompatible with the layer: '
                             f"expected max_ndim={self.max_ndim}, found ndim={rank}. Full "
                             f"shape received: {shape}")
        if rank is not None:
            for axis, size in self.axes.items():
                actual = shape[axis if axis >= 0 else rank + axis] if -rank <= axis < rank \
                    else None
                if size is not None and actual is not None and actual != size:
                    raise ValueError(f'Input 0 of layer "{layer_name}" is incompatible with '
                                     f"the layer: expected axis {axis} of input shape to have "
                                     f"value {size}, but received input with shape {shape}")


class Layer:
    """The base of the ``tf.layers`` classes (TF 1's ``tf.layers.Layer``).

    A subclass creates its weights in `build` with `add_weight` and computes its outputs in
    `call`; calling the layer (or `apply`) builds it once, in its variable scope, and then
    runs `call` under the scope's name scope.

    Args:
      trainable: whether the layer's weights go to ``TRAINABLE_VARIABLES``.
      name: the layer's name, which is also its variable scope's name (made unique unless
        the layer reuses variables); a `VariableScope` to build in that scope.
      dtype: the dtype of the weights; None takes the dtype of the first input.
      activity_regularizer: a function of the output whose value, divided by the batch size,
        is added to the layer's losses.
      _scope, _reuse: what the ``tf.layers`` functions pass: the scope to open at
        construction, and whether to reuse its variables.

    Raises:
      TypeError: for an unknown keyword argument.
    """

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        allowed = {"_scope", "_reuse", "activity_regularizer", "input_shape",
                   "batch_input_shape", "autocast"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]!r}")
        scope = kwargs.pop("_scope", None)
        self._reuse = kwargs.pop("_reuse", None)
        self._activity_regularizer = kwargs.pop("activity_regularizer", None)
        self.trainable = bool(trainable)
        self.built = False
        self._dtype = dtypes.as_dtype(dtype) if dtype is not None else None
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._losses = []
        self._updates = []
        self.input_spec = None
        self._init_set_name(name)
        self._current_scope = None
        if scope:
            with vs.variable_scope(scope) as captured_scope:
                self._scope = captured_scope
        else:
            self._scope = None

    def _init_set_name(self, name):
        class_base = _to_snake_case(type(self).__name__)
        if isinstance(name, vs.VariableScope):
            self._base_name = name.name
            self._name = _unique_layer_name(class_base)
        elif name:
            self._base_name = self._name = name
        else:
            self._base_name = class_base
            self._name = _unique_layer_name(class_base)

    # ---- scopes ------------------------------------------------------------------------

    def _set_scope(self, scope=None):
        """Chooses the variable scope on first use: exactly `scope` (or the layer's name)
        when reusing, else a unique one under the enclosing variable scope."""
        if self._scope is not None:
            return
        if self._reuse:
            with vs.variable_scope(scope if scope is not None else self._base_name) \
                    as captured_scope:
                self._scope = captured_scope
        else:
            with vs.variable_scope(scope, default_name=self._base_name) as captured_scope:
                self._scope = captured_scope

    @property
    def scope_name(self):
        """The full name of the layer's variable scope (after its first call)."""
        if not self._scope:
            raise ValueError(f'No name available for layer scope because the layer "{self._name}"'
                             ' has not been used yet. The scope name  is determined the first '
                             "time the layer instance is called. You must therefore call the "
                             "layer before querying `scope_name`.")
        return self._scope.name

    # ---- weights, losses, updates -------------------------------------------------------

    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None,
                   trainable=None, constraint=None, use_resource=None, synchronization=None,
                   aggregation=None, partitioner=None, **kwargs):
        """Creates (or, when reusing, finds) the weight `name` in the layer's variable scope.

        Args:
          name: the weight's name inside the scope ('kernel').
          shape: its shape.
          dtype: its dtype (default: the layer's).
          initializer: an initializer (default: the scope's, else `get_variable`'s).
          regularizer: a function of the weight whose value is added to the losses (once,
            when the variable is created).
          trainable: whether it is trained (default True; False too if the layer is not).
          constraint: a projection applied by optimizers after each update.
          use_resource, synchronization, aggregation, partitioner: TF's arguments, passed on.

        Returns:
          The `Variable`.
        """
        del use_resource, synchronization, aggregation, kwargs
        if trainable is None:
            trainable = True
        dtype = dtypes.as_dtype(dtype) if dtype is not None else (self._dtype or
                                                                  dtypes.float32)
        self._set_scope(None)
        graph = graph_lib.get_default_graph()
        existing = graph.get_collection(GraphKeys.GLOBAL_VARIABLES) + \
            graph.get_collection(GraphKeys.LOCAL_VARIABLES)
        reuse = self.built or self._reuse
        with vs.variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            with graph.name_scope(scope.original_name_scope):
                if initializer is None:
                    initializer = scope.initializer
                get_kwargs = {}
                if partitioner is not None:
                    get_kwargs["partitioner"] = partitioner
                variable = vs.get_variable(name, shape=shape, dtype=dtype,
                                           initializer=initializer,
                                           trainable=trainable and self.trainable,
                                           constraint=constraint, **get_kwargs)
                if regularizer is not None and not _contains(existing, variable):
                    with graph.name_scope(name + "/Regularizer"):
                        loss = regularizer(variable)
                    if loss is not None:
                        self.add_loss(loss)
        # A custom getter or an enclosing scope may have overridden `trainable`.
        is_trainable = _contains(graph.get_collection(GraphKeys.TRAINABLE_VARIABLES),
                                 variable)
        if is_trainable:
            if not _contains(self._trainable_weights, variable):
                self._trainable_weights.append(variable)
        elif not _contains(self._non_trainable_weights, variable):
            self._non_trainable_weights.append(variable)
        return variable

    # Keras' older spelling.
    add_variable = add_weight

    def add_loss(self, losses, inputs=None):
        """Adds loss tensors to the layer's losses and to ``REGULARIZATION_LOSSES``."""
        del inputs
        new = [loss for loss in _flatten(losses) if loss is not None]
        new = [graph_lib.convert_to_tensor(loss) for loss in new]
        self._losses.extend(new)
        _add_to_collection(new, GraphKeys.REGULARIZATION_LOSSES)

    def add_update(self, updates, inputs=None):
        """Adds update ops (or tensors) to `updates`; calling the layer puts them into
        ``UPDATE_OPS``."""
        del inputs
        self._updates.extend(u for u in _flatten(updates) if u is not None)

    @property
    def losses(self):
        """The losses of the layer: regularizers of its weights and of its activity."""
        return list(self._losses)

    @property
    def updates(self):
        """The update ops the layer made (batch normalization's moving averages)."""
        return list(self._updates)

    def get_losses_for(self, inputs):
        del inputs
        return self.losses

    def get_updates_for(self, inputs):
        del inputs
        return self.updates

    @property
    def trainable_weights(self):
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    @property
    def weights(self):
        """All weights: the trainable ones first."""
        return self.trainable_weights + self.non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    @property
    def name(self):
        return self._name

    @property
    def dtype(self):
        return self._dtype

    @property
    def graph(self):
        weights = self.weights
        return weights[0].graph if weights else None

    def count_params(self):
        """The number of scalars in the weights (the layer must be built)."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self._name}, but the "
                             "layer isn't built. You can build it manually via: "
                             f"`{self._name}.build(batch_input_shape)`.")
        total = 0
        for weight in self.weights:
            total += int(weight.shape.num_elements())
        return total

    # ---- building and calling ---------------------------------------------------------

    def build(self, input_shape):
        """Creates the weights for inputs of `input_shape`; the base creates none."""
        del input_shape
        self.built = True

    def call(self, inputs, **kwargs):
        """The layer's computation; the base returns `inputs`."""
        del kwargs
        return inputs

    def compute_output_shape(self, input_shape):
        raise NotImplementedError(f"{type(self).__name__}.compute_output_shape")

    def apply(self, inputs, *args, **kwargs):
        """The same as calling the layer."""
        return self.__call__(inputs, *args, **kwargs)

    def __call__(self, inputs, *args, **kwargs):
        """Builds the layer if needed and applies it to `inputs`.

        Args:
          inputs: a Tensor (or a structure of them, for layers that take several).
          *args, **kwargs: passed to `call` (e.g. ``training=``); ``scope=`` chooses the
            variable scope on the first call.

        Returns:
          The output Tensor(s).
        """
        scope = kwargs.pop("scope", None)
        graph = _graph_of(inputs)
        with graph.as_default():
            inputs = _map_structure(_to_tensor, inputs)
            self._set_scope(scope)
            reuse = True if self.built else self._reuse
            with vs.variable_scope(self._scope, reuse=reuse,
                                   auxiliary_name_scope=False) as current:
                self._current_scope = current
                with graph.name_scope(current.original_name_scope):
                    if not self.built:
                        self._maybe_build(inputs)
                    self._check_input_spec(inputs)
                    outputs = self.call(inputs, *args, **kwargs)
                    if self._activity_regularizer is not None:
                        self._handle_activity_regularization(outputs)
            _add_to_collection(self._updates, GraphKeys.UPDATE_OPS)
        return outputs

    def _maybe_build(self, inputs):
        first = _flatten(inputs)[0]
        if self._dtype is None:
            self._dtype = first.dtype.base_dtype
        self._check_input_spec(inputs)
        shapes = _map_structure(lambda t: t.shape, inputs)
        self.build(shapes)
        self.built = True

    def _check_input_spec(self, inputs):
        if self.input_spec is None:
            return
        specs = self.input_spec if isinstance(self.input_spec, (list, tuple)) \
            else [self.input_spec]
        for spec, tensor in zip(specs, _flatten(inputs)):
            if spec is not None:
                spec.check(self._name, tensor)

    def _handle_activity_regularization(self, outputs):
        graph = graph_lib.get_default_graph()
        for output in _flatten(outputs):
            with graph.name_scope("ActivityRegularizer"):
                loss = self._activity_regularizer(output)
                batch = math_ops.cast(array_ops.shape(output)[0], loss.dtype)
                self.add_loss(math_ops.truediv(loss, batch))

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} name={self._name!r}>"


def _to_tensor(value):
    if isinstance(value, graph_lib.Tensor):
        return value
    return graph_lib.convert_to_tensor(value)


def _graph_of(inputs):
    for leaf in _flatten(inputs):
        graph = getattr(leaf, "graph", None)
        if graph is not None:
            return graph
    return graph_lib.get_default_graph()


def static_shape(tensor):
    """The static shape as a list with None for unknown sizes (rank must be known)."""
    return TensorShape(tensor.shape).as_list()
