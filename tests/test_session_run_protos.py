"""`Session.run` and callables take only real `RunOptions` / `RunMetadata` protos."""

import pytest

import sessionlib as tf


@pytest.mark.parametrize("kwargs,match", [
    ({"options": {"timeout_in_ms": 5}}, "options must be a RunOptions proto, got dict"),
    ({"options": tf.RunMetadata()}, "options must be a RunOptions proto, got RunMetadata"),
    ({"run_metadata": 3}, "run_metadata must be a RunMetadata proto, got int"),
    ({"options": tf.RunOptions(), "run_metadata": tf.RunOptions()},
     "run_metadata must be a RunMetadata proto"),
])
def test_run_and_callables_reject_what_is_not_the_right_proto(kwargs, match):
    x = tf.constant(2.0)
    with tf.Session() as sess:
        with pytest.raises(TypeError, match=match):
            sess.run(x, **kwargs)
        with pytest.raises(TypeError, match=match):
            sess.make_callable(x)(**kwargs)
        # The right protos (or none) still work.
        assert sess.run(x, options=tf.RunOptions(), run_metadata=tf.RunMetadata()) == 2.0
        assert sess.make_callable(x)(options=tf.RunOptions()) == 2.0
