"""`Optimizer`, the base class of the ``tf.train`` optimizers (TF 1's API and names).

An optimizer builds ordinary graph ops: `compute_gradients` calls `tf.gradients`, and
`apply_gradients` adds one update op per variable, TF's ``ResourceApply*`` op (or
``ResourceSparseApply*`` for an `IndexedSlices` gradient) of the ``training_ops`` family,
whose kernel updates the variable and its slots in place in one fused pass. The ops live in the
name scope ``<name>/update_<variable>`` on the variable's device; a given `global_step` is
incremented after every update, and the op that does that is the train op.

Slots (``w/Adam``, ``w/Adam_1``, ...) are non-trainable variables named as TF names them, so a
checkpoint maps one to one; non-slot variables (Adam's ``beta1_power``) live beside the first
variable. Both are created outside any control dependency and name scope, as TF's
``init_scope`` does.
"""

from sessionlib import dtypes
from sessionlib.framework import graph as graph_lib
from sessionlib.framework.graph import GraphKeys
from sessionlib.framework.indexed_slices import IndexedSlices

__all__ = ["Optimizer"]

_VALID_DTYPES = (dtypes.float32, dtypes.float64, dtypes.float16)


def _is_variable(value):
    from sessionlib.ops import variables

    return isinstance(value, variables.Variable)


def _use_resource(var):
    """None (the default kind) for a resource variable, False for a reference variable: an
    optimizer's own variables are of the kind of the variable they serve, as in TF."""
    return False if var.dtype._is_ref_dtype else None


def _var_key(var):
    """The key of a variable in the slot dicts (TF keys by (graph, op name))."""
    return (var.graph, var.op.name)


class _NoScope:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _device_of(var):
    return graph_lib.device(var.device) if var.device else _NoScope()


class Optimizer:
    """The base class of optimizers (``tf.train.Optimizer``).

    Subclasses implement `_create_slots`, `_prepare`, `_resource_apply_dense` and
    `_resource_apply_sparse`, and may override `_finish`.

    Args:
      use_locking: accepted for TF's signature; updates are always atomic.
      name: the name of the optimizer's ops (the apply scope) and of its slots.

    Raises:
      ValueError: if `name` is empty.
    """

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        # slot name -> {var key: slot variable}
        self._slots = {}
        # (name, graph) -> variable
        self._non_slot_dict = {}

    def get_name(self):
        return self._name

    # ---- the public API -------------------------------------------------------------------

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """Adds ops that compute the gradients of `loss` and apply them (one training step).

        Args:
          loss: a scalar Tensor to minimize.
          global_step: optional integer Variable, incremented by one after the updates.
          var_list: the variables to update (default: the trainable variables).
          gate_gradients: `GATE_NONE`, `GATE_OP` or `GATE_GRAPH`.
          aggregation_method: passed to `tf.gradients`.
          colocate_gradients_with_ops: passed to `tf.gradients`.
          name: the name of the returned op (default: the optimizer's name).
          grad_loss: optional Tensor, the gradient of `loss` to start from.

        Returns:
          The Operation that runs the step.

        Raises:
          ValueError: if no variable gets a gradient, or for invalid dtypes.
          TypeError: if `var_list` holds something that is not a variable.
        """
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError("No gradients provided for any variable, check your graph for ops "
                             "that do not support gradients, between variables "
                             f"{[str(v) for _, v in grads_and_vars]} and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """The gradients of `loss` with respect to the variables of `var_list`.

        Args:
          loss: a scalar Tensor (or a callable returning one).
          var_list: Variables (or Tensors) to differentiate by; default: the trainable
            variables of the loss's graph.
          gate_gradients, aggregation_method, colocate_gradients_with_ops, grad_loss: as in
            `minimize`.

        Returns:
          A list of ``(gradient, variable)`` pairs; the gradient is None for a variable the
          loss does not depend on (and for a non-floating variable), a Tensor, or an
          `IndexedSlices`.

        Raises:
          ValueError: for an invalid `gate_gradients`, a non-floating loss, or no variables.
          TypeError: if `var_list` holds something that is neither a Variable nor a Tensor.
        """
        from sessionlib.ops import control_flow_ops, gradients

        if callable(loss):
            loss = loss()
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP,
                                  Optimizer.GATE_GRAPH):
            raise ValueError(f"gate_gradients must be one of: Optimizer.GATE_NONE, "
                             f"Optimizer.GATE_OP, Optimizer.GATE_GRAPH.  Not {gate_gradients}")
        loss = graph_lib.convert_to_tensor(loss)
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            grad_loss = graph_lib.convert_to_tensor(grad_loss)
            self._assert_valid_dtypes([grad_loss])
        graph = loss.graph
        if var_list is None:
            var_list = list(graph.get_collection(GraphKeys.TRAINABLE_VARIABLES))
            resource_key = getattr(GraphKeys, "TRAINABLE_RESOURCE_VARIABLES", None)
            if resource_key:
                var_list += [v for v in graph.get_collection(resource_key)
                             if v not in var_list]
        else:
            var_list = _flatten(var_list)
        for v in var_list:
            if not (_is_variable(v) or isinstance(v, graph_lib.Tensor)):
                raise TypeError(f"Trying to optimize unsupported type {v!r}: var_list entries "
                                "must be Variables")
        if not var_list:
            raise ValueError("No variables to optimize.")
        # A non-floating variable gets no gradient (its reads carry none), as in TF; leaving it
        # out of the walk spares the walk the integer ops around it.
        targets = [v for v in var_list if v.dtype.is_floating or v.dtype.is_complex]
        grads = gradients.gradients(
            loss, targets, grad_ys=grad_loss,
            gate_gradients=(gate_gradients == Optimizer.GATE_OP),
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops) if targets else []
        by_target = {id(v): g for v, g in zip(targets, grads)}
        grads = [by_target.get(id(v)) for v in var_list]
        if gate_gradients == Optimizer.GATE_GRAPH:
            grads = _gate(grads, control_flow_ops)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Adds the ops that apply `grads_and_vars` to the variables (one update each).

        Args:
          grads_and_vars: ``(gradient, variable)`` pairs, as from `compute_gradients`; pairs
            with a None gradient are skipped.
          global_step: optional integer Variable, incremented by one after all the updates.
          name: the name of the returned op (default: the optimizer's name).

        Returns:
          The Operation that applies the gradients: the global step's increment when
          `global_step` is given, else a NoOp grouping the updates.

        Raises:
          TypeError: if a gradient is not a Tensor, an `IndexedSlices` or None, or a
            variable is not a Variable.
          ValueError: if no pair has a gradient, or a variable is not floating point.
        """
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for pair in grads_and_vars:
            try:
                g, v = pair
            except (TypeError, ValueError):
                raise TypeError(f"grads_and_vars must hold (gradient, variable) pairs, got "
                                f"{pair!r}") from None
            if g is not None and not isinstance(g, IndexedSlices):
                try:
                    g = graph_lib.convert_to_tensor(g)
                except (TypeError, ValueError):
                    raise TypeError(f"Gradient must be convertible to a Tensor or "
                                    f"IndexedSlices, or None: {g}") from None
            if not _is_variable(v):
                raise TypeError(f"Trying to update unsupported type {v!r}: only Variables can "
                                "be updated")
            converted.append((g, v))
        var_list = [v for g, v in converted if g is not None]
        if not var_list:
            raise ValueError(f"No gradients provided for any variable: "
                             f"{[str(v) for _, v in converted]}.")
        self._assert_valid_dtypes(var_list)
        for g, v in converted:
            if g is not None and g.dtype is not v.dtype.base_dtype:
                raise ValueError(f"Gradient of type {g.dtype.name} for variable {v.name} of "
                                 f"type {v.dtype.name}")
        graph = var_list[0].graph
        with graph.as_default():
            with graph.control_dependencies(None):
                self._create_slots(var_list)
            update_ops = []
            with graph.name_scope(name or self._name) as scope:
                self._prepare()
                for grad, var in converted:
                    if grad is None:
                        continue
                    with graph.name_scope("update_" + var.op.name), _device_of(var):
                        if isinstance(grad, IndexedSlices):
                            update = self._resource_apply_sparse_duplicate_indices(
                                grad.values, var, grad.indices)
                        else:
                            update = self._resource_apply_dense(grad, var)
                        constraint = getattr(var, "constraint", None)
                        if constraint is not None:
                            # As TF 1: the projection runs after the update, as its op.
                            with graph.control_dependencies([update]):
                                update = var.assign(constraint(var)).op
                        update_ops.append(update)
                if global_step is None:
                    apply_updates = self._finish(update_ops, scope)
                else:
                    with graph.control_dependencies([self._finish(update_ops, "update")]):
                        with _device_of(global_step):
                            apply_updates = _increment(global_step, scope)
            train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
            if apply_updates not in train_ops:
                train_ops.append(apply_updates)
        return apply_updates

    def get_slot(self, var, name):
        """The slot variable `name` of `var` ('m', 'momentum', ...), or None."""
        named = self._slots.get(name)
        if not named:
            return None
        return named.get(_var_key(var))

    def get_slot_names(self):
        """The names of the slots this optimizer creates, sorted."""
        return sorted(self._slots.keys())

    def variables(self):
        """The optimizer's variables in the default graph (slots and non-slot variables),
        sorted by name."""
        graph = graph_lib.get_default_graph()
        found = [v for (_, g), v in self._non_slot_dict.items() if g is graph]
        for per_var in self._slots.values():
            found.extend(v for v in per_var.values() if v.graph is graph)
        return sorted(found, key=lambda v: v.name)

    # ---- for subclasses -------------------------------------------------------------------

    def _valid_dtypes(self):
        return _VALID_DTYPES

    def _assert_valid_dtypes(self, tensors):
        valid = self._valid_dtypes()
        for t in tensors:
            if t.dtype.base_dtype not in valid:
                names = ", ".join(f"tf.{d.name}" for d in valid)
                raise ValueError(f"Invalid type tf.{t.dtype.name} for {t.name}, expected: "
                                 f"[{names}].")

    def _create_slots(self, var_list):
        """Creates the slots of every variable of `var_list` (default: none)."""

    def _prepare(self):
        """Converts the hyper-parameters to tensors, inside the apply scope."""

    def _resource_apply_dense(self, grad, var):
        raise NotImplementedError()

    def _resource_apply_sparse(self, grad, var, indices):
        raise NotImplementedError()

    def _resource_apply_sparse_duplicate_indices(self, grad, var, indices):
        # The sparse update kernels sum the gradients of repeated indices before applying,
        # which is what TF's version of this method does with extra ops.
        return self._resource_apply_sparse(grad, var, indices)

    def _finish(self, update_ops, name_scope):
        from sessionlib.ops import control_flow_ops

        return control_flow_ops.group(*update_ops, name=name_scope)

    def _call_if_callable(self, param):
        return param() if callable(param) else param

    def _hyper(self, value, name):
        """A hyper-parameter as a tensor (TF's `_prepare` conversions)."""
        value = self._call_if_callable(value)
        if isinstance(value, graph_lib.Tensor) or _is_variable(value):
            return graph_lib.convert_to_tensor(value)
        return graph_lib.convert_to_tensor(value, name=name)

    @staticmethod
    def _cast(tensor, dtype):
        from sessionlib.ops import math_ops

        return math_ops.cast(tensor, dtype)

    # ---- slots ----------------------------------------------------------------------------

    def _slot_dict(self, slot_name):
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot(self, var, make_initial_value, slot_name, op_name):
        """The slot `slot_name` of `var`, made as ``<var>/<op_name>`` from
        `make_initial_value()` on first use."""
        from sessionlib.ops import variables

        named = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named:
            graph = var.graph
            with graph.as_default(), graph.control_dependencies(None), \
                    graph.name_scope(None), _device_of(var):
                # A reference variable's slots are reference variables, as in TF.
                named[key] = variables.Variable(make_initial_value, trainable=False,
                                                name=f"{var.op.name}/{op_name}",
                                                dtype=var.dtype.base_dtype,
                                                use_resource=_use_resource(var))
        return named[key]

    def _zeros_slot(self, var, slot_name, op_name):
        return self._constant_slot(var, 0.0, slot_name, op_name)

    def _constant_slot(self, var, value, slot_name, op_name):
        from sessionlib.ops import array_ops

        dtype = var.dtype.base_dtype

        def initial_value():
            if var.shape.is_fully_defined():
                return array_ops.fill(var.shape.as_list(),
                                      graph_lib.convert_to_tensor(value, dtype=dtype))
            return array_ops.zeros_like(var.initial_value) + graph_lib.convert_to_tensor(
                value, dtype=dtype)

        return self._get_or_make_slot(var, initial_value, slot_name, op_name)

    def _create_non_slot_variable(self, initial_value, name, colocate_with):
        """A variable `name` of this optimizer, one per graph, beside `colocate_with`."""
        from sessionlib.ops import variables

        graph = colocate_with.graph
        key = (name, graph)
        found = self._non_slot_dict.get(key)
        if found is None:
            with graph.as_default(), graph.control_dependencies(None), \
                    graph.name_scope(None), _device_of(colocate_with):
                found = variables.Variable(initial_value, name=name, trainable=False,
                                           use_resource=_use_resource(colocate_with))
            self._non_slot_dict[key] = found
        return found

    def _get_non_slot_variable(self, name, graph=None):
        graph = graph or graph_lib.get_default_graph()
        return self._non_slot_dict.get((name, graph))

    def _non_slot_variables(self):
        return list(self._non_slot_dict.values())


def _flatten(values):
    if isinstance(values, (list, tuple, set)):
        flat = []
        for value in values:
            flat.extend(_flatten(value))
        return flat
    if isinstance(values, dict):
        return _flatten(list(values.values()))
    return [values]


def _gate(grads, control_flow_ops):
    """GATE_GRAPH: every gradient waits for all of them (TF's ``control_flow_ops.tuple``)."""
    present = [g for g in grads if g is not None]
    tensors = [g.values if isinstance(g, IndexedSlices) else g for g in present]
    gated = iter(control_flow_ops.tuple(tensors))
    result = []
    for g in grads:
        if g is None:
            result.append(None)
        elif isinstance(g, IndexedSlices):
            result.append(IndexedSlices(next(gated), g.indices, g.dense_shape))
        else:
            result.append(next(gated))
    return result


def _increment(global_step, scope):
    """Adds one to `global_step` (a Variable), in an op named after the apply scope."""
    if not _is_variable(global_step):
        raise TypeError(f"global_step must be a Variable, got {global_step!r}")
    if not global_step.dtype.is_integer:
        raise TypeError(f"global_step must be an integer Variable, got "
                        f"{global_step.dtype.name}")
    one = graph_lib.convert_to_tensor(1, dtype=global_step.dtype.base_dtype)
    return global_step.assign_add(one, name=scope, read_value=False)
