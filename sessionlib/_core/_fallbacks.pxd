# cython: language_level=3
# The lookup of a reference kernel that a compiled kernel hands back to.
#
# Several _core modules run only part of an op's cases in their loops (some dtypes, some
# layouts) and give the rest, and every error, to the op's reference kernel. The runtime hands
# those kernels in (each module's `set_fallbacks`): the compiled core never imports the runtime.
# This is the one lookup they share; each module keeps its own table.


cdef inline object fallback_kernel(dict table, str module, str setter, str name):
    """The reference kernel `name` of `module`'s `table`; RuntimeError naming the runtime
    module that fills it (`setter`) when it was never set."""
    try:
        return table[name]
    except KeyError:
        raise RuntimeError(f"{module}: no fallback kernel for {name}; {setter} sets them") from None
