"""``tf.saved_model.signature_def_utils``: building and checking ``SignatureDef`` protos."""

from sessionlib.framework import graph as graph_lib
from sessionlib.framework import tensor_util
from sessionlib.protos import meta_graph_pb2, types_pb2
from sessionlib.saved_model import signature_constants as keys
from sessionlib.saved_model.method_name_updater import MethodNameUpdater
from sessionlib.saved_model import utils

__all__ = ["MethodNameUpdater", "build_signature_def", "classification_signature_def",
           "is_valid_signature", "predict_signature_def", "regression_signature_def"]


def build_signature_def(inputs=None, outputs=None, method_name=None, defaults=None):
    """A ``SignatureDef`` from its parts.

    Args:
      inputs: a dict ``key -> TensorInfo``.
      outputs: a dict ``key -> TensorInfo``.
      method_name: e.g. ``PREDICT_METHOD_NAME``.
      defaults: a dict ``input key -> constant Tensor``, the values of inputs left unfed.

    Returns:
      The ``SignatureDef``.

    Raises:
      ValueError: if a default is not the output of a ``Const`` op.
    """
    signature_def = meta_graph_pb2.SignatureDef()
    for key, tensor_info in (inputs or {}).items():
        signature_def.inputs[key].CopyFrom(tensor_info)
    for key, tensor_info in (outputs or {}).items():
        signature_def.outputs[key].CopyFrom(tensor_info)
    if method_name is not None:
        signature_def.method_name = method_name
    for key, default in (defaults or {}).items():
        op = getattr(default, "op", None)
        if op is None or op.type != "Const":
            raise ValueError(f"Unable to convert object {default} of type {type(default)} "
                             f"to TensorProto.")
        signature_def.defaults[key].CopyFrom(
            tensor_util.make_tensor_proto(op.get_attr("value"), dtype=default.dtype))
    return signature_def


def _checked_info(tensor, dtype_enum, message):
    tensor_info = utils.build_tensor_info(tensor)
    if tensor_info.dtype != dtype_enum:
        raise ValueError(f"{message} Found tensors of type {tensor_info.dtype}.")
    return tensor_info


def regression_signature_def(examples, predictions):
    """A regress ``SignatureDef``: serialized ``tf.Example``s in, float predictions out.

    Args:
      examples: a string Tensor.
      predictions: a float Tensor.

    Returns:
      The ``SignatureDef`` (method ``REGRESS_METHOD_NAME``).

    Raises:
      ValueError: if an argument is None or of the wrong type or dtype.
    """
    if examples is None:
        raise ValueError("Regression `examples` cannot be None.")
    if not isinstance(examples, graph_lib.Tensor):
        raise ValueError(f"Expected regression `examples` to be of type Tensor. Found "
                         f"`examples` of type {type(examples)}.")
    if predictions is None:
        raise ValueError("Regression `predictions` cannot be None.")
    inputs = {keys.REGRESS_INPUTS: _checked_info(
        examples, types_pb2.DT_STRING, "Regression input tensors must be of type string.")}
    outputs = {keys.REGRESS_OUTPUTS: _checked_info(
        predictions, types_pb2.DT_FLOAT, "Regression output tensors must be of type float.")}
    return build_signature_def(inputs, outputs, keys.REGRESS_METHOD_NAME)


def classification_signature_def(examples, classes, scores):
    """A classify ``SignatureDef``: serialized ``tf.Example``s in, classes and/or scores out.

    Args:
      examples: a string Tensor.
      classes: a string Tensor of class names, or None.
      scores: a float Tensor of scores, or None (not both None).

    Returns:
      The ``SignatureDef`` (method ``CLASSIFY_METHOD_NAME``).

    Raises:
      ValueError: if `examples` is None or not a string Tensor, both outputs are None, or an
        output has the wrong dtype.
    """
    if examples is None:
        raise ValueError("Classification `examples` cannot be None.")
    if not isinstance(examples, graph_lib.Tensor):
        raise ValueError(f"Classification `examples` must be a string Tensor. Found "
                         f"`examples` of type {type(examples)}.")
    if classes is None and scores is None:
        raise ValueError("Classification `classes` and `scores` cannot both be None.")
    inputs = {keys.CLASSIFY_INPUTS: _checked_info(
        examples, types_pb2.DT_STRING, "Classification input tensors must be of type string.")}
    outputs = {}
    if classes is not None:
        outputs[keys.CLASSIFY_OUTPUT_CLASSES] = _checked_info(
            classes, types_pb2.DT_STRING,
            "Classification classes must be of type string Tensor.")
    if scores is not None:
        outputs[keys.CLASSIFY_OUTPUT_SCORES] = _checked_info(
            scores, types_pb2.DT_FLOAT, "Classification scores must be a float Tensor.")
    return build_signature_def(inputs, outputs, keys.CLASSIFY_METHOD_NAME)


def predict_signature_def(inputs, outputs):
    """A predict ``SignatureDef``: any named tensors in and out.

    Args:
      inputs: a non-empty dict ``key -> Tensor``.
      outputs: a non-empty dict ``key -> Tensor``.

    Returns:
      The ``SignatureDef`` (method ``PREDICT_METHOD_NAME``).

    Raises:
      ValueError: if `inputs` or `outputs` is None or empty.
    """
    if not inputs:
        raise ValueError("Prediction `inputs` cannot be None or empty.")
    if not outputs:
        raise ValueError("Prediction `outputs` cannot be None or empty.")
    return build_signature_def(
        {key: utils.build_tensor_info(tensor) for key, tensor in inputs.items()},
        {key: utils.build_tensor_info(tensor) for key, tensor in outputs.items()},
        keys.PREDICT_METHOD_NAME)


def _is_valid_predict(signature_def):
    return (signature_def.method_name == keys.PREDICT_METHOD_NAME
            and bool(signature_def.inputs) and bool(signature_def.outputs))


def _is_valid_regression(signature_def):
    return (signature_def.method_name == keys.REGRESS_METHOD_NAME
            and set(signature_def.inputs) == {keys.REGRESS_INPUTS}
            and signature_def.inputs[keys.REGRESS_INPUTS].dtype == types_pb2.DT_STRING
            and set(signature_def.outputs) == {keys.REGRESS_OUTPUTS}
            and signature_def.outputs[keys.REGRESS_OUTPUTS].dtype == types_pb2.DT_FLOAT)


def _is_valid_classification(signature_def):
    allowed = {keys.CLASSIFY_OUTPUT_CLASSES: types_pb2.DT_STRING,
               keys.CLASSIFY_OUTPUT_SCORES: types_pb2.DT_FLOAT}
    outputs = signature_def.outputs
    return (signature_def.method_name == keys.CLASSIFY_METHOD_NAME
            and set(signature_def.inputs) == {keys.CLASSIFY_INPUTS}
            and signature_def.inputs[keys.CLASSIFY_INPUTS].dtype == types_pb2.DT_STRING
            and bool(outputs) and not set(outputs) - set(allowed)
            and all(outputs[key].dtype == dtype for key, dtype in allowed.items()
                    if key in outputs))


def is_valid_signature(signature_def):
    """Whether a ``SignatureDef`` is a well-formed predict, classify or regress signature.

    Args:
      signature_def: a ``SignatureDef`` or None.

    Returns:
      True or False.
    """
    if signature_def is None:
        return False
    return (_is_valid_classification(signature_def) or _is_valid_regression(signature_def)
            or _is_valid_predict(signature_def))


def op_signature_def(op, key):
    """A ``SignatureDef`` whose one output, `key`, names the operation `op`."""
    return build_signature_def(outputs={key: utils.build_tensor_info_from_op(op)})
