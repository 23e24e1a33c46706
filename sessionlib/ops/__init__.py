"""The op families. Importing this package registers every op."""

from sessionlib.ops import array_ops, control_flow_ops  # noqa: F401
