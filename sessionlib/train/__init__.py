"""``tf.train``: optimizers, the global step, learning-rate schedules, checkpoints (Saver).

Built from ops and run through a Session (see DESIGN.md): nothing here executes anything.
"""

from sessionlib.train.learning_rate_decay import (cosine_decay, cosine_decay_restarts,
                                                  exponential_decay, inverse_time_decay,
                                                  linear_cosine_decay, natural_exp_decay,
                                                  noisy_linear_cosine_decay,
                                                  piecewise_constant, piecewise_constant_decay,
                                                  polynomial_decay)
from sessionlib.train.moving_averages import ExponentialMovingAverage
from sessionlib.train.optimizer import Optimizer
from sessionlib.train.optimizers import (AdadeltaOptimizer, AdagradDAOptimizer,
                                         AdagradOptimizer, AdamOptimizer, FtrlOptimizer,
                                         GradientDescentOptimizer, MomentumOptimizer,
                                         ProximalAdagradOptimizer,
                                         ProximalGradientDescentOptimizer, RMSPropOptimizer)
from sessionlib.train.checkpoint_management import (checkpoint_exists,
                                                    generate_checkpoint_state_proto,
                                                    get_checkpoint_mtimes, get_checkpoint_state,
                                                    latest_checkpoint, remove_checkpoint,
                                                    update_checkpoint_state)
from sessionlib.train.checkpoint_utils import (CheckpointReader, NewCheckpointReader,
                                               checkpoints_iterator, init_from_checkpoint,
                                               list_variables, load_checkpoint, load_variable)
from sessionlib.train.saver import Saver, SaverDef
# ---- threads and queue-based input pipelines ----
from sessionlib.train import queue_runner  # tf.train.queue_runner.QueueRunner & co.
from sessionlib.train.coordinator import Coordinator, LooperThread
from sessionlib.train.input import (batch, batch_join, input_producer, limit_epochs,
                                    match_filenames_once, maybe_batch, maybe_batch_join,
                                    maybe_shuffle_batch, maybe_shuffle_batch_join,
                                    range_input_producer, shuffle_batch, shuffle_batch_join,
                                    slice_input_producer, string_input_producer)
from sessionlib.train.queue_runner import (QueueRunner, add_queue_runner,
                                           start_queue_runners)
from sessionlib.train.training_util import (assert_global_step, create_global_step,
                                            get_global_step, get_or_create_global_step,
                                            global_step)

__all__ = ["Optimizer", "GradientDescentOptimizer", "MomentumOptimizer", "AdagradOptimizer",
           "RMSPropOptimizer", "AdamOptimizer", "AdadeltaOptimizer", "FtrlOptimizer",
           "ProximalGradientDescentOptimizer", "ProximalAdagradOptimizer", "AdagradDAOptimizer",
           "get_global_step", "create_global_step", "get_or_create_global_step",
           "assert_global_step", "global_step", "exponential_decay", "piecewise_constant",
           "piecewise_constant_decay", "polynomial_decay",
           "inverse_time_decay", "cosine_decay", "natural_exp_decay",
           "linear_cosine_decay", "noisy_linear_cosine_decay", "cosine_decay_restarts",
           "ExponentialMovingAverage",

           "Coordinator", "LooperThread", "QueueRunner", "add_queue_runner",
           "start_queue_runners", "match_filenames_once", "limit_epochs", "input_producer",
           "string_input_producer", "range_input_producer", "slice_input_producer", "batch",
           "maybe_batch", "batch_join", "shuffle_batch", "shuffle_batch_join",
           "maybe_batch_join", "maybe_shuffle_batch", "maybe_shuffle_batch_join"]
# Checkpoints (issue 13).
__all__ += ["Saver", "SaverDef", "CheckpointReader", "NewCheckpointReader",
            "latest_checkpoint", "get_checkpoint_state", "update_checkpoint_state",
            "checkpoint_exists", "get_checkpoint_mtimes", "remove_checkpoint", "list_variables",
            "load_variable", "load_checkpoint", "init_from_checkpoint",
            "generate_checkpoint_state_proto", "checkpoints_iterator"]

# Event files: `tf.train.summary_iterator` reads what `tf.summary.FileWriter` wrote.
from sessionlib.summary.summary_iterator import summary_iterator  # noqa: E402
__all__ += ["summary_iterator"]

# Graph files (issue 13): `tf.train.write_graph` (also `tf.io.write_graph`).
from sessionlib.framework.graph_io import write_graph  # noqa: E402
__all__ += ["write_graph"]

# Meta graphs (issue 13): `.meta` files with the graph, collections and SaverDef.
from sessionlib.train.meta_graph_io import export_meta_graph, import_meta_graph  # noqa: E402
__all__ += ["export_meta_graph", "import_meta_graph"]

# Training loops: MonitoredSession, Scaffold, SessionRunHook and TF's hooks.
from sessionlib.train.session_run_hook import (SessionRunArgs, SessionRunContext,  # noqa: E402
                                               SessionRunHook, SessionRunValues)
from sessionlib.train.session_manager import SessionManager  # noqa: E402
from sessionlib.train.basic_session_run_hooks import (  # noqa: E402
    CheckpointSaverHook, CheckpointSaverListener, FeedFnHook, FinalOpsHook,
    GlobalStepWaiterHook, LoggingTensorHook, NanLossDuringTrainingError, NanTensorHook,
    ProfilerHook, SecondOrStepTimer, StepCounterHook, StopAtStepHook, SummarySaverHook,
    SummaryWriterCache)
from sessionlib.train.monitored_session import (  # noqa: E402
    ChiefSessionCreator, MonitoredSession, MonitoredTrainingSession, Scaffold, SessionCreator,
    SingularMonitoredSession, WorkerSessionCreator)
__all__ += ["SessionRunHook", "SessionRunArgs", "SessionRunContext", "SessionRunValues",
            "SessionManager", "CheckpointSaverHook", "CheckpointSaverListener", "FeedFnHook",
            "FinalOpsHook", "GlobalStepWaiterHook", "LoggingTensorHook",
            "NanLossDuringTrainingError", "NanTensorHook", "ProfilerHook", "SecondOrStepTimer",
            "StepCounterHook", "StopAtStepHook", "SummarySaverHook", "SummaryWriterCache",
            "ChiefSessionCreator", "MonitoredSession", "MonitoredTrainingSession", "Scaffold",
            "SessionCreator", "SingularMonitoredSession", "WorkerSessionCreator"]

# Placement and clusters: `replica_device_setter` and `ClusterSpec`.
from sessionlib.train.cluster_spec import ClusterSpec  # noqa: E402
from sessionlib.train.device_setter import replica_device_setter  # noqa: E402
__all__ += ["ClusterSpec", "replica_device_setter"]

# Warm starting from an older checkpoint, and the supervisor loop.
from sessionlib.train.basic_loops import basic_train_loop  # noqa: E402
from sessionlib.train.warm_starting_util import VocabInfo, warm_start  # noqa: E402
__all__ += ["basic_train_loop", "VocabInfo", "warm_start"]
