"""The runtime: plans, executors, placement, resources (and later devices and shared memory)."""
