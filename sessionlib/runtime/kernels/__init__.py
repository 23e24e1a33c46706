"""The kernel families: importing this package fills the runtime's kernel table.

Each module registers the kernels of one op family (``register_kernel`` of
``runtime/kernel_table.py``), mirroring ``sessionlib/ops``: the op modules name kernels, these
modules implement them. Kernel modules import the compiled core, the framework (dtypes, errors,
shapes) and the runtime, never the op library, so a device worker loads them without it.
"""

from sessionlib.runtime.kernels import (  # noqa: F401 - each module registers its kernels
    array_kernels,
    candidate_sampling_kernels,
    check_kernels,
    control_flow_kernels,
    convolution_kernels,
    convolution3d_kernels,
    checkpoint_kernels,
    ctc_kernels,
    cumulative_kernels,
    data_flow_kernels,
    dataset_kernels,
    input_kernels,
    image_box_kernels,
    image_kernels,
    image_color_kernels,
    image_codec_kernels,
    io_kernels,
    linalg_kernels,
    list_kernels,
    manipulation_kernels,
    math_kernels,
    metrics_kernels,
    nn_kernels,
    nn_model_kernels,
    nn_fused_kernels,
    optional_kernels,
    random_kernels,
    ref_kernels,
    sampling_kernels,
    scatter_gather_kernels,
    segment_kernels,
    session_handles_kernels,
    sparse_kernels,
    sparse_manipulation_kernels,
    sparse_math_kernels,
    set_kernels,
    state_kernels,
    summary_kernels,
    training_kernels,
)
