"""Two weighted batches for the metrics at thresholds (tf.metrics and contrib's streaming
twins), and TF's numbers on them, shared by test_metrics.py and
test_contrib_metrics_losses.py."""

import numpy as np

import sessionlib as tf

# Two weighted batches; 0.5 and 0.85 are both predictions and thresholds, so `>` (not `>=`)
# shows. The expected numbers below are TF 2.21's tf.compat.v1.metrics on these batches.
THRESHOLD_BATCHES = [
    (np.array([[0.1, 0.5, 0.9, 0.3], [0.7, 0.2, 0.85, 0.6]], np.float32),
     np.array([[1, 0, 1, 0], [1, 0, 0, 1]], np.int64), np.array([[1.0], [2.0]], np.float32)),
    (np.array([[0.95, 0.05, 0.5, 0.4], [0.65, 0.15, 0.35, 0.8]], np.float32),
     np.array([[1, 0, 0, 1], [0, 0, 1, 1]], np.int64), np.array([[0.5], [3.0]], np.float32)),
]
THRESHOLDS = [0.15, 0.5, 0.85]
TF_AT_THRESHOLDS = {  # key: (after the first update, after both)
    "tp": ([5.0, 5.0, 1.0], [12.0, 8.5, 1.5]),
    "fp": ([6.0, 2.0, 0.0], [9.5, 5.0, 0.0]),
    "tn": ([0.0, 4.0, 6.0], [3.5, 8.0, 13.0]),
    "fn": ([1.0, 1.0, 5.0], [1.0, 4.5, 11.5]),
    "precision": ([0.4545454680919647, 0.7142857313156128, 0.9999998807907104],
                  [0.5581395626068115, 0.6296296119689941, 0.9999999403953552]),
    "recall": ([0.8333333134651184, 0.8333333134651184, 0.1666666716337204],
               [0.9230769276618958, 0.6538461446762085, 0.11538461595773697]),
    "sensitivity_at_specificity": (0.8333333134651184, 0.6538461446762085),
    "specificity_at_sensitivity": (0.6666666865348816, 0.6153846383094788),
    "sensitivity_unweighted": (0.75, 0.875),
    "specificity_unweighted": (0.75, 0.5),
    # contrib only: fp / (fp + tn + 1e-7) and fn / (fn + tp + 1e-7), TF's division of TF's
    # counts above.
    "fpr": ([1.0, 0.3333333432674408, 0.0], [0.7307692170143127, 0.38461539149284363, 0.0]),
    "fnr": ([0.1666666716337204, 0.1666666716337204, 0.8333333134651184],
            [0.07692307978868484, 0.3461538553237915, 0.8846153616905212]),
}


def run_two_updates(build):
    """Builds ``build(labels, predictions, weights) -> {key: (value, update_op)}`` on
    placeholders; returns ({key: [update result per batch]}, {key: final value})."""
    with tf.Graph().as_default():
        predictions = tf.placeholder(tf.float32, [2, 4])
        labels = tf.placeholder(tf.int64, [2, 4])
        weights = tf.placeholder(tf.float32, [2, 1])
        metrics = build(labels, predictions, weights)
        with tf.Session() as session:
            session.run(tf.local_variables_initializer())
            updates = {key: [] for key in metrics}
            for batch_predictions, batch_labels, batch_weights in THRESHOLD_BATCHES:
                got = session.run({key: pair[1] for key, pair in metrics.items()},
                                  {predictions: batch_predictions, labels: batch_labels,
                                   weights: batch_weights})
                for key, value in got.items():
                    updates[key].append(value)
            values = session.run({key: pair[0] for key, pair in metrics.items()})
    return updates, values


def assert_tf_numbers(updates, values):
    """Checks each metric of `run_two_updates`' results against `TF_AT_THRESHOLDS`."""
    for key in updates:
        first, both = TF_AT_THRESHOLDS[key]
        np.testing.assert_allclose(updates[key][0], first, rtol=1e-6, err_msg=key)
        np.testing.assert_allclose(updates[key][1], both, rtol=1e-6, err_msg=key)
        np.testing.assert_allclose(values[key], both, rtol=1e-6, err_msg=key)
