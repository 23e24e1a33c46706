"""The compiled core: the executor loop and the kernels (Cython).

OpenMP's wait policy is chosen here, before the first kernel module loads libgomp, which reads
it once. Its default lets the threads of a finished parallel loop spin for a while; in a step
that alternates our parallel kernels with BLAS calls (a training step: matmuls, then fused
optimizer updates), those spinning threads take the cores the BLAS threads need. On a 2-core
machine an MLP training step took 8-15 ms that way and 3 ms with ``PASSIVE``, while the
elementwise figures of ``tools/bench.py`` stayed within noise. A value the user set wins.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
