"""``tf.metrics``: TF 1's streaming metrics (``tf.compat.v1.metrics``).

Each metric returns ``(value, update_op)`` and keeps its sums in local metric variables; see
``metrics_impl.py`` for the design. Built from ops; nothing here runs anything.
"""

from sessionlib.metrics.metrics_impl import (accuracy, auc, false_negatives,
                                             false_negatives_at_thresholds, false_positives,
                                             false_positives_at_thresholds, mean,
                                             mean_absolute_error, mean_iou, mean_squared_error,
                                             mean_tensor, precision, precision_at_thresholds,
                                             recall, recall_at_thresholds,
                                             root_mean_squared_error,
                                             sensitivity_at_specificity,
                                             specificity_at_sensitivity, true_negatives,
                                             true_negatives_at_thresholds,
                                             true_positives, true_positives_at_thresholds)

__all__ = ["accuracy", "auc", "false_negatives", "false_negatives_at_thresholds",
           "false_positives", "false_positives_at_thresholds", "mean", "mean_absolute_error",
           "mean_iou", "mean_squared_error", "mean_tensor", "precision",
           "precision_at_thresholds", "recall", "recall_at_thresholds",
           "root_mean_squared_error", "sensitivity_at_specificity", "specificity_at_sensitivity",
           "true_negatives", "true_negatives_at_thresholds", "true_positives",
           "true_positives_at_thresholds"]
