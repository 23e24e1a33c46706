"""TF 1's process-level helpers that are plain Python: ``tf.logging``, ``tf.gfile``,
``tf.app`` / ``tf.flags``, and the behaviour switches (``tf.disable_v2_behavior`` ...)."""
