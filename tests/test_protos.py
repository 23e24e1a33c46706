"""The generated protos are current and wire-compatible with TensorFlow's.

Expected numbers come from TF's .proto files (tensorflow/core/framework/*.proto,
tensorflow/core/protobuf/config.proto, xla/tsl/protobuf/error_codes.proto). The expected
bytes are computed by hand from the protobuf wire format: a tag is (field_number << 3 | wire
type), wire type 0 for varints and 2 for length-delimited fields.
"""

import importlib
import pathlib
import subprocess
import sys

import pytest

from sessionlib import protos
from sessionlib.protos import (
    AttrValue,
    CallableOptions,
    ConfigProto,
    DeviceStepStats,
    GraphDef,
    GraphOptions,
    NodeDef,
    NodeExecStats,
    OptimizerOptions,
    RunMetadata,
    RunOptions,
    StepStats,
    TensorProto,
    TensorShapeProto,
    config_pb2,
    error_codes_pb2,
    types_pb2,
)

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def field_numbers(message_class):
    """Maps each field name of a message class to its field number."""
    return {
        name: field.number for name, field in message_class.DESCRIPTOR.fields_by_name.items()
    }


def test_generated_modules_are_current():
    pytest.importorskip("grpc_tools")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "gen_protos.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_proto_has_its_generated_module():
    proto_dir = REPO_ROOT / "sessionlib" / "protos"
    stems = {path.stem for path in proto_dir.glob("*.proto")}
    # The protos the runtime itself cannot do without; more are added as features land.
    assert {"attr_value", "config", "error_codes", "graph", "node_def", "step_stats", "tensor",
            "tensor_shape", "types", "versions"} <= stems
    generated = {path.name[:-len("_pb2.py")] for path in proto_dir.glob("*_pb2.py")}
    assert generated == stems
    for stem in stems:
        assert (proto_dir / f"{stem}_pb2.pyi").is_file(), stem
        module = importlib.import_module(f"sessionlib.protos.{stem}_pb2")
        assert module.DESCRIPTOR.package.split(".")[0] == "sessionlib", stem


def test_full_names_live_in_package_sessionlib():
    assert ConfigProto.DESCRIPTOR.full_name == "sessionlib.ConfigProto"
    assert RunOptions.DESCRIPTOR.full_name == "sessionlib.RunOptions"
    assert GraphDef.DESCRIPTOR.full_name == "sessionlib.GraphDef"
    assert AttrValue.ListValue.DESCRIPTOR.full_name == "sessionlib.AttrValue.ListValue"
    assert types_pb2.DataType.DESCRIPTOR.full_name == "sessionlib.DataType"
    assert error_codes_pb2.Code.DESCRIPTOR.full_name == "sessionlib.error.Code"
    assert ConfigProto.DESCRIPTOR.file.name == "sessionlib/protos/config.proto"
    assert types_pb2.DESCRIPTOR.package == "sessionlib"


def test_generated_imports_use_the_package_path():
    source = (REPO_ROOT / "sessionlib" / "protos" / "config_pb2.py").read_text()
    assert "from sessionlib.protos import graph_pb2" in source
    assert "from sessionlib.protos import step_stats_pb2" in source


def test_config_proto_field_numbers():
    assert field_numbers(ConfigProto) == {
        "device_count": 1,
        "intra_op_parallelism_threads": 2,
        "placement_period": 3,
        "device_filters": 4,
        "inter_op_parallelism_threads": 5,
        "gpu_options": 6,
        "allow_soft_placement": 7,
        "log_device_placement": 8,
        "use_per_session_threads": 9,
        "graph_options": 10,
        "operation_timeout_in_ms": 11,
        "session_inter_op_thread_pool": 12,
        "cluster_def": 14,
        "isolate_session_state": 15,
        "experimental": 16,
        "share_cluster_devices_in_session": 17,
        "pluggable_device_options": 18,
    }
    experimental = field_numbers(ConfigProto.Experimental)
    assert experimental["executor_type"] == 3
    assert experimental["session_metadata"] == 11
    assert experimental["disable_output_partition_graphs"] == 14


def test_graph_and_thread_pool_options_field_numbers():
    graph_options = field_numbers(GraphOptions)
    assert graph_options["enable_recv_scheduling"] == 2
    assert graph_options["optimizer_options"] == 3
    assert graph_options["build_cost_model"] == 4
    assert graph_options["infer_shapes"] == 5
    assert graph_options["place_pruned_graph"] == 6
    assert graph_options["timeline_step"] == 8
    assert graph_options["build_cost_model_after"] == 9
    assert field_numbers(OptimizerOptions) == {
        "do_common_subexpression_elimination": 1,
        "do_constant_folding": 2,
        "opt_level": 3,
        "do_function_inlining": 4,
        "global_jit_level": 5,
        "max_folded_constant_in_bytes": 6,
        "cpu_global_jit": 7,
    }
    assert OptimizerOptions.L1 == 0
    assert OptimizerOptions.L0 == -1
    assert field_numbers(protos.ThreadPoolOptionProto) == {"num_threads": 1, "global_name": 2}


def test_run_options_field_numbers_and_trace_levels():
    assert field_numbers(RunOptions) == {
        "trace_level": 1,
        "timeout_in_ms": 2,
        "inter_op_thread_pool": 3,
        "output_partition_graphs": 5,
        "report_tensor_allocations_upon_oom": 7,
        "experimental": 8,
    }
    assert RunOptions.NO_TRACE == 0
    assert RunOptions.SOFTWARE_TRACE == 1
    assert RunOptions.HARDWARE_TRACE == 2
    assert RunOptions.FULL_TRACE == 3
    assert RunOptions.TraceLevel.Name(3) == "FULL_TRACE"


def test_run_metadata_and_callable_options_field_numbers():
    assert field_numbers(RunMetadata) == {
        "step_stats": 1,
        "partition_graphs": 3,
        "function_graphs": 4,
        "session_metadata": 5,
    }
    assert RunMetadata.DESCRIPTOR.fields_by_name["partition_graphs"].message_type is (
        GraphDef.DESCRIPTOR
    )
    assert field_numbers(CallableOptions) == {
        "feed": 1,
        "fetch": 2,
        "target": 3,
        "run_options": 4,
        "tensor_connection": 5,
        "feed_devices": 6,
        "fetch_devices": 7,
        "fetch_skip_sync": 8,
    }


def test_graph_def_and_node_def_field_numbers():
    assert field_numbers(GraphDef) == {"node": 1, "library": 2, "version": 3, "versions": 4}
    # TF 2.21's function.proto field numbers (read from TF's descriptors).
    from sessionlib.protos import function_pb2

    assert field_numbers(function_pb2.FunctionDefLibrary) == {
        "function": 1, "gradient": 2, "registered_gradients": 3}
    assert field_numbers(function_pb2.FunctionDef) == {
        "signature": 1, "attr": 5, "arg_attr": 7, "resource_arg_unique_id": 8, "node_def": 3,
        "ret": 4, "control_ret": 6}
    assert GraphDef.DESCRIPTOR.fields_by_name["version"].GetOptions().deprecated
    assert field_numbers(NodeDef) == {
        "name": 1,
        "op": 2,
        "input": 3,
        "device": 4,
        "attr": 5,
        "experimental_debug_info": 6,
    }
    assert field_numbers(protos.VersionDef) == {
        "producer": 1,
        "min_consumer": 2,
        "bad_consumers": 3,
    }
    assert field_numbers(protos.ReaderBaseState) == {
        "work_started": 1,
        "work_finished": 2,
        "num_records_produced": 3,
        "current_work": 4,
    }


def test_attr_value_oneof_field_numbers():
    assert field_numbers(AttrValue) == {
        "list": 1,
        "s": 2,
        "i": 3,
        "f": 4,
        "b": 5,
        "type": 6,
        "shape": 7,
        "tensor": 8,
        "placeholder": 9,
        "func": 10,
    }
    oneof = AttrValue.DESCRIPTOR.oneofs_by_name["value"]
    assert sorted(field.name for field in oneof.fields) == sorted(field_numbers(AttrValue))
    assert field_numbers(AttrValue.ListValue) == {
        "s": 2,
        "i": 3,
        "f": 4,
        "b": 5,
        "type": 6,
        "shape": 7,
        "tensor": 8,
        "func": 9,
    }
    assert field_numbers(protos.NameAttrList) == {"name": 1, "attr": 2}


def test_tensor_and_shape_field_numbers():
    assert field_numbers(TensorProto) == {
        "dtype": 1,
        "tensor_shape": 2,
        "version_number": 3,
        "tensor_content": 4,
        "float_val": 5,
        "double_val": 6,
        "int_val": 7,
        "string_val": 8,
        "scomplex_val": 9,
        "int64_val": 10,
        "bool_val": 11,
        "dcomplex_val": 12,
        "half_val": 13,
        "resource_handle_val": 14,
        "variant_val": 15,
        "uint32_val": 16,
        "uint64_val": 17,
        "float8_val": 18,
    }
    assert field_numbers(TensorShapeProto) == {"dim": 2, "unknown_rank": 3}
    assert field_numbers(TensorShapeProto.Dim) == {"size": 1, "name": 2}


def test_step_stats_field_numbers():
    assert field_numbers(StepStats) == {"dev_stats": 1}
    assert field_numbers(DeviceStepStats) == {"device": 1, "node_stats": 2, "thread_names": 3}
    assert field_numbers(NodeExecStats) == {
        "node_name": 1,
        "all_start_micros": 2,
        "op_start_rel_micros": 3,
        "op_end_rel_micros": 4,
        "all_end_rel_micros": 5,
        "memory": 6,
        "output": 7,
        "timeline_label": 8,
        "scheduled_micros": 9,
        "thread_id": 10,
        "referenced_tensor": 11,
        "memory_stats": 12,
        "all_start_nanos": 13,
        "op_start_rel_nanos": 14,
        "op_end_rel_nanos": 15,
        "all_end_rel_nanos": 16,
        "scheduled_nanos": 17,
    }
    assert field_numbers(protos.NodeOutput) == {"slot": 1, "tensor_description": 3}
    assert field_numbers(protos.TensorDescription) == {
        "dtype": 1,
        "shape": 2,
        "allocation_description": 4,
    }
    assert field_numbers(protos.AllocationDescription) == {
        "requested_bytes": 1,
        "allocated_bytes": 2,
        "allocator_name": 3,
        "allocation_id": 4,
        "has_single_reference": 5,
        "ptr": 6,
    }
    assert field_numbers(protos.AllocatorMemoryUsed) == {
        "allocator_name": 1,
        "total_bytes": 2,
        "peak_bytes": 3,
        "live_bytes": 4,
        "allocator_bytes_in_use": 5,
        "allocation_records": 6,
    }
    assert field_numbers(protos.MemoryStats) == {
        "temp_memory_size": 1,
        "device_temp_memory_size": 2,
        "persistent_memory_size": 3,
        "device_persistent_memory_size": 4,
        "persistent_tensor_alloc_ids": 5,
        "device_persistent_tensor_alloc_ids": 6,
    }


def test_data_type_values():
    data_type = types_pb2.DataType
    expected = {
        "DT_INVALID": 0,
        "DT_FLOAT": 1,
        "DT_DOUBLE": 2,
        "DT_INT32": 3,
        "DT_UINT8": 4,
        "DT_INT16": 5,
        "DT_INT8": 6,
        "DT_STRING": 7,
        "DT_COMPLEX64": 8,
        "DT_INT64": 9,
        "DT_BOOL": 10,
        "DT_QINT8": 11,
        "DT_QUINT8": 12,
        "DT_QINT32": 13,
        "DT_BFLOAT16": 14,
        "DT_QINT16": 15,
        "DT_QUINT16": 16,
        "DT_UINT16": 17,
        "DT_COMPLEX128": 18,
        "DT_HALF": 19,
        "DT_RESOURCE": 20,
        "DT_VARIANT": 21,
        "DT_UINT32": 22,
        "DT_UINT64": 23,
        "DT_FLOAT8_E5M2": 24,
        "DT_FLOAT8_E4M3FN": 25,
        "DT_FLOAT8_E4M3FNUZ": 26,
        "DT_FLOAT8_E4M3B11FNUZ": 27,
        "DT_FLOAT8_E5M2FNUZ": 28,
        "DT_INT4": 29,
        "DT_UINT4": 30,
        "DT_INT2": 31,
        "DT_UINT2": 32,
        "DT_FLOAT4_E2M1FN": 33,
    }
    for name, number in expected.items():
        assert data_type.Value(name) == number, name
    # Every real type has its reference variant at +100, and there is nothing else.
    for name, number in expected.items():
        if number:
            assert data_type.Value(name + "_REF") == number + 100, name
    assert len(data_type.keys()) == 2 * len(expected) - 1
    assert types_pb2.DT_FLOAT_REF == 101
    assert types_pb2.DT_RESOURCE_REF == 120


def test_error_code_values():
    code = error_codes_pb2.Code
    assert dict(code.items()) == {
        "OK": 0,
        "CANCELLED": 1,
        "UNKNOWN": 2,
        "INVALID_ARGUMENT": 3,
        "DEADLINE_EXCEEDED": 4,
        "NOT_FOUND": 5,
        "ALREADY_EXISTS": 6,
        "PERMISSION_DENIED": 7,
        "UNAUTHENTICATED": 16,
        "RESOURCE_EXHAUSTED": 8,
        "FAILED_PRECONDITION": 9,
        "ABORTED": 10,
        "OUT_OF_RANGE": 11,
        "UNIMPLEMENTED": 12,
        "INTERNAL": 13,
        "UNAVAILABLE": 14,
        "DATA_LOSS": 15,
        "DO_NOT_USE_RESERVED_FOR_FUTURE_EXPANSION_USE_DEFAULT_IN_SWITCH_INSTEAD_": 20,
    }


def test_config_proto_wire_bytes():
    # Field 8, varint 1.
    assert ConfigProto(log_device_placement=True).SerializeToString() == b"\x40\x01"
    # Field 1 holds a map entry message {key (1): "CPU", value (2): 4}.
    encoded = ConfigProto(device_count={"CPU": 4}).SerializeToString()
    assert encoded == b"\x0a\x07\x0a\x03CPU\x10\x04"
    decoded = ConfigProto.FromString(encoded + b"\x58\x96\x01")  # field 11 = 150
    assert dict(decoded.device_count) == {"CPU": 4}
    assert decoded.operation_timeout_in_ms == 150


def test_run_options_and_run_metadata_wire_bytes():
    run_options = RunOptions(
        trace_level=RunOptions.FULL_TRACE, timeout_in_ms=5, output_partition_graphs=True
    )
    assert run_options.SerializeToString() == b"\x08\x03\x10\x05\x28\x01"
    parsed = RunOptions.FromString(b"\x08\x03\x10\x05")
    assert parsed.trace_level == RunOptions.FULL_TRACE
    assert parsed.timeout_in_ms == 5

    node = NodeDef(name="a", op="NoOp")
    assert node.SerializeToString() == b"\x0a\x01a\x12\x04NoOp"
    metadata = RunMetadata(partition_graphs=[GraphDef(node=[node])])
    assert metadata.SerializeToString() == b"\x1a\x0b\x0a\x09\x0a\x01a\x12\x04NoOp"


def test_step_stats_wire_bytes():
    stats = NodeExecStats(node_name="n", all_start_micros=1, timeline_label="t", thread_id=2)
    assert stats.SerializeToString() == b"\x0a\x01n\x10\x01\x42\x01t\x50\x02"
    device_stats = DeviceStepStats(device="d", thread_names={7: "w"})
    assert device_stats.SerializeToString() == b"\x0a\x01d\x1a\x05\x08\x07\x12\x01w"


def test_attr_value_and_tensor_wire_bytes():
    assert AttrValue(type=types_pb2.DT_FLOAT).SerializeToString() == b"\x30\x01"
    # ListValue.i (field 3) is packed, as in TF: one length-delimited run of varints.
    assert (
        AttrValue(list=AttrValue.ListValue(i=[1, 2])).SerializeToString()
        == b"\x0a\x04\x1a\x02\x01\x02"
    )
    tensor = TensorProto(dtype=types_pb2.DT_INT32, int_val=[7])
    assert tensor.SerializeToString() == b"\x08\x03\x3a\x01\x07"
    shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=-1), TensorShapeProto.Dim(size=3)])
    assert TensorShapeProto.FromString(shape.SerializeToString()) == shape
    # A size of -1 is a ten-byte varint (two's complement of a 64-bit int).
    assert shape.SerializeToString() == (
        b"\x12\x0b\x08" + b"\xff" * 9 + b"\x01" + b"\x12\x02\x08\x03"
    )


def test_attr_value_oneof_switches_members():
    value = AttrValue(i=3)
    assert value.WhichOneof("value") == "i"
    value.s = b"x"
    assert value.WhichOneof("value") == "s"
    assert value.i == 0


def test_unknown_tf_fields_survive_a_round_trip():
    # Field 13 (rpc_options) exists in TF's ConfigProto but is not modelled here.
    tf_bytes = b"\x40\x01\x6a\x02\x08\x01"
    config = ConfigProto.FromString(tf_bytes)
    assert config.log_device_placement
    assert config.SerializeToString() == tf_bytes


def test_package_reexports_match_generated_modules():
    assert protos.ConfigProto is config_pb2.ConfigProto
    assert protos.DataType is types_pb2.DataType
    assert protos.Code is error_codes_pb2.Code
    for name in protos.__all__:
        assert hasattr(protos, name), name
