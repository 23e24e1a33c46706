"""The graph model: graphs, operations, tensors, shapes, devices and the op registry."""
