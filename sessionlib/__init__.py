"""sessionlib: TensorFlow 1's graph-and-Session programming model, small and fast.

``import sessionlib as tf`` gives the public names of ``tf.compat.v1`` that sessionlib supports.
This module only re-exports; the code lives in the subpackages.
"""

from sessionlib import dtypes, errors
from sessionlib.dtypes import (DType, as_dtype, bool, double, float16, float32, float64, half,
                               int8, int16, int32, int64, string, uint8)
from sessionlib.framework.graph import (Graph, GraphKeys, Operation, Tensor,
                                        control_dependencies, convert_to_tensor, device,
                                        get_default_graph, name_scope, reset_default_graph)
from sessionlib.framework.graph_io import import_graph_def
from sessionlib.framework.tensor_shape import TensorShape
from sessionlib.ops.array_ops import constant, identity, placeholder, placeholder_with_default
from sessionlib.ops.control_flow_ops import group, no_op, tuple
from sessionlib.client.session import (InteractiveSession, Session, get_default_session)
from sessionlib.protos import (AttrValue, ConfigProto, GraphDef, GraphOptions, NodeDef,
                               OptimizerOptions, RunMetadata, RunOptions, StepStats,
                               TensorProto, TensorShapeProto)

__version__ = "0.1.0"
