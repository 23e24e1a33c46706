"""`RefVariable`: TF 1's reference variable, what ``tf.Variable(..., use_resource=False)`` makes.

It builds the graph TF 1 builds for one: a ``VariableV2`` node whose output is the variable's
reference (``v:0``, dtype ``float32_ref``), an ``Assign`` initializer (``v/Assign``) of the
initial value (``v/initial_value``), and one snapshot read (``v/read``, an ``Identity``) that
`value()` returns and every use of the variable as a tensor shares. So a graph exported from
sessionlib reads as TF's, and `tf.gradients(loss, v)` collects the gradient at the reference,
through ``v/read``. Updates (`assign`, `assign_add`, `scatter_update`, ...) are the reference ops
of ``ops/ref_variable_ops.py`` and return the variable's reference, which reads the updated
value when fetched. The runtime side (reads, kernels) is ``runtime/ref_reads.py`` and the
``ref_kernels`` family.

A `RefVariable` is a `Variable`: it joins the same collections, and the initializers, `Saver`,
the optimizers and `report_uninitialized_variables` take it. Internal code that builds resource
ops on a variable goes through `_resource_op`, which this class maps to the reference ops.
"""

from sessionlib.framework import graph as graph_lib
from sessionlib.framework import function as function_lib
from sessionlib.framework import meta_graph
from sessionlib.framework.tensor_shape import TensorShape, as_shape
from sessionlib.ops import variables

__all__ = ["RefVariable"]

# Resource ops on a variable -> (their reference form, whether it reads the value).
_REF_FORMS = {"AssignVariableOp": "Assign", "AssignAddVariableOp": "AssignAdd",
              "AssignSubVariableOp": "AssignSub", "VarIsInitializedOp": "IsVariableInitialized",
              "ReadVariableOp": "Identity"}


class RefVariable(variables.Variable):
    """A TF 1 reference variable; see the module docstring. Built by
    ``Variable(..., use_resource=False)``, which takes the same arguments."""

    def __init__(self, initial_value=None, trainable=None, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None, synchronization=None, aggregation=None, shape=None):
        if variable_def is not None:
            if initial_value is not None:
                raise ValueError("variable_def and initial_value are mutually exclusive.")
            self._init_from_proto(variable_def, import_scope)
            return
        with function_lib.init_scope():
            self._init_from_args(initial_value, trainable, collections, validate_shape,
                                 name, dtype, constraint, shape)

    def _init_from_args(self, initial_value, trainable, collections, validate_shape, name,
                        dtype, constraint, shape):
        # Inside `init_scope`: made in a cond branch or loop body, it lives in the outer graph.
        trainable, collections = variables._checked_arguments(initial_value, trainable,
                                                              collections)
        graph = graph_lib.get_default_graph()
        self._trainable = trainable
        self._constraint = constraint
        with graph.control_dependencies(None), graph.name_scope(name or "Variable") as scope:
            if callable(initial_value):
                with graph.name_scope("Initializer"), graph.device(None):
                    initial = graph_lib.convert_to_tensor(initial_value(), dtype=dtype,
                                                          name="initial_value")
            else:
                initial = graph_lib.convert_to_tensor(initial_value, dtype=dtype,
                                                      name="initial_value")
            if initial.graph is not graph:
                raise ValueError("initial_value must be from the same graph as the variable")
            if shape is not None:
                static_shape = as_shape(shape)
                if not static_shape.is_compatible_with(initial.shape):
                    raise ValueError(f"The initial value's shape ({initial.shape}) is not "
                                     f"compatible with the explicitly supplied `shape` "
                                     f"argument ({static_shape}).")
            elif validate_shape:
                static_shape = initial.shape
            else:
                static_shape = TensorShape(None)
            self._dtype = initial.dtype.base_dtype
            self._shape = static_shape
            self._initial_value = initial
            self._variable = graph.create_op(
                "VariableV2", [], {"shape": static_shape, "dtype": self._dtype,
                                   "container": "", "shared_name": ""},
                name=scope).outputs[0]
            self._handle = self._variable
            # As TF: the initializer and the snapshot are colocated with the variable (their
            # `_class` attr), so the placer keeps them on its device.
            with graph.colocate_with(self._variable.op):
                self._initializer_op = graph.create_op(
                    "Assign", [self._variable, initial],
                    {"validate_shape": bool(validate_shape), "use_locking": True},
                    name="Assign")
                self._snapshot = graph.create_op("Identity", [self._variable],
                                                 name="read").outputs[0]
        self._graph_element = self._variable
        graph.add_to_collections(collections, self)

    def _init_from_proto(self, variable_def, import_scope=None):
        """Rebuilds the variable from the ops a ``VariableDef`` names (a TF 1 meta graph's):
        its ``VariableV2``, initializer, initial value and ``read`` snapshot."""
        from sessionlib.framework import meta_graph

        graph = graph_lib.get_default_graph()

        def element(name, **kwargs):
            return graph.as_graph_element(meta_graph.prepend_name_scope(name, import_scope),
                                          **kwargs)

        self._variable = self._handle = element(variable_def.variable_name,
                                                allow_operation=False)
        variable_op = self._variable.op
        self._dtype = variable_op.get_attr("dtype").base_dtype
        self._shape = as_shape(variable_op.get_attr("shape"))
        self._trainable = variable_def.trainable
        self._constraint = None
        self._synchronization = variable_def.synchronization
        self._aggregation = variable_def.aggregation
        self._initializer_op = element(variable_def.initializer_name)
        self._initial_value = (element(variable_def.initial_value_name)
                               if variable_def.initial_value_name else None)
        self._snapshot = (element(variable_def.snapshot_name, allow_operation=False)
                          if variable_def.snapshot_name else self._variable)
        self._graph_element = self._variable

    def to_proto(self, export_scope=None):
        """This variable's ``VariableDef`` (``is_resource`` False, the snapshot ``v/read``).

        Returns:
          The proto, or None when the variable is not under `export_scope`.
        """
        variable_def = super().to_proto(export_scope)
        if variable_def is not None:
            variable_def.snapshot_name = meta_graph.strip_name_scope(self._snapshot.name,
                                                                      export_scope)
        return variable_def

    # ---- building blocks ----------------------------------------------------------------

    def _ref_op(self, op_type, inputs, attrs, name):
        graph = self.graph
        with graph.device(None):
            return graph.create_op(op_type, [self._variable] + list(inputs), dict(attrs or {}),
                                   name=name, device=self._variable.device or None)

    def _resource_op(self, op_type, inputs, name, attrs=None):
        """The reference form of resource op `op_type` on this variable (for the code that
        builds resource ops on any variable: the Saver's restore, initializers)."""
        ref_type = _REF_FORMS.get(op_type)
        if ref_type is None:
            raise TypeError(f"{op_type} takes a resource variable; {self.name} is a reference "
                            "variable")
        attrs = {}
        if ref_type == "Assign":
            attrs["validate_shape"] = self._shape.is_fully_defined()
        return self._ref_op(ref_type, inputs, attrs, name)

    def _read_op(self, name="read"):
        return self._ref_op("Identity", [], {}, name).outputs[0]

    def _update(self, op_type, value, read_value, name, attrs=None):
        tensor = self._convert_value(value, "assign" if op_type == "Assign" else "update")
        op = self._ref_op(op_type, [tensor], attrs, name or op_type)
        return op.outputs[0] if read_value else op

    # ---- the public API -------------------------------------------------------------------

    @property
    def dtype(self):
        """The reference dtype (``float32_ref``), as TF 1 reports it."""
        return self._dtype._as_ref

    @property
    def handle(self):
        """The variable's reference tensor (what update ops take; no resource handle)."""
        return self._variable

    def _ref(self):
        """The variable's reference tensor, ``v:0`` (TF's private name)."""
        return self._variable

    def value(self):
        """The snapshot read ``v/read`` that every use of the variable as a tensor shares."""
        return self._snapshot

    def read_value(self):
        """A new read of the variable (an ``Identity`` named ``read``)."""
        return self._read_op()

    def initialized_value(self):
        """The variable's value, or its initial value while it has none (TF 1's
        ``RefVariable.initialized_value``; see `Variable.initialized_value`).

        A function captures a reference tensor as its value (``framework/function.py``), so a
        ``cond`` could not test the variable before reading it. The branches use a resource
        handle to the same variable instead: at run time a reference is that handle, and a
        ``VarHandleOp`` with the ``VariableV2``'s container and shared name (its node name
        when empty, as TF shares) addresses the same resource.
        """
        from sessionlib.framework import function as function_lib
        from sessionlib.ops import cond_v2

        with function_lib.init_scope():
            graph = self.graph
            op = self._variable.op
            with graph.colocate_with(op), graph.name_scope(op.name + "/"):
                handle = graph.create_op(
                    "VarHandleOp", [],
                    {"dtype": self._dtype, "shape": self._shape,
                     "container": op.get_attr("container"),
                     "shared_name": op.get_attr("shared_name") or op.name,
                     "allowed_devices": []}, name="resource_view").outputs[0]

            def read():
                value = graph_lib.get_default_graph().create_op(
                    "ReadVariableOp", [handle], {"dtype": self._dtype},
                    name="ReadVariableOp").outputs[0]
                value.set_shape(self._shape)
                return value

            return cond_v2.cond(self.is_initialized(), read, lambda: self.initial_value)

    def is_initialized(self, name=None):
        """A bool scalar tensor: whether the variable has a value in the running session."""
        return self._ref_op("IsVariableInitialized", [], {},
                            name or "IsVariableInitialized").outputs[0]

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Assigns `value` (``Assign``, shapes validated).

        Returns:
          The variable's reference (the new value once run), or the op if not `read_value`.

        Raises:
          TypeError: if `value` has another dtype.
          ValueError: if its static shape is incompatible.
        """
        return self._update("Assign", value, read_value, name,
                            {"use_locking": True if use_locking is None else use_locking})

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Adds `delta` (``AssignAdd``); see `assign` for the result."""
        return self._update("AssignAdd", delta, read_value, name,
                            {"use_locking": bool(use_locking)})

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtracts `delta` (``AssignSub``); see `assign` for the result."""
        return self._update("AssignSub", delta, read_value, name,
                            {"use_locking": bool(use_locking)})

    def _scatter(self, function, sparse_delta, use_locking, name):
        from sessionlib.framework.indexed_slices import IndexedSlices

        if not isinstance(sparse_delta, IndexedSlices):
            raise TypeError(f"sparse_delta is not IndexedSlices: {sparse_delta}")
        return function(self, sparse_delta.indices, sparse_delta.values,
                        use_locking=use_locking, name=name)

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        """``ScatterUpdate`` of an `IndexedSlices`; returns the reference."""
        from sessionlib.ops import ref_variable_ops

        return self._scatter(ref_variable_ops.scatter_update, sparse_delta, use_locking, name)

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        """``ScatterAdd`` of an `IndexedSlices`; returns the reference."""
        from sessionlib.ops import ref_variable_ops

        return self._scatter(ref_variable_ops.scatter_add, sparse_delta, use_locking, name)

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        """``ScatterSub`` of an `IndexedSlices`; returns the reference."""
        from sessionlib.ops import ref_variable_ops

        return self._scatter(ref_variable_ops.scatter_sub, sparse_delta, use_locking, name)

    def __repr__(self):
        shape = self._shape
        shape_text = "<unknown>" if shape.rank is None else str(tuple(shape.as_list()))
        return f"<tf.Variable '{self.name}' shape={shape_text} dtype={self.dtype.name}>"
