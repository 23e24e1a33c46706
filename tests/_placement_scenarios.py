"""Graphs whose placement is compared with TF 2.21's (tests/test_placement_tf_rules.py).

Each builder takes the ``tf`` module (``sessionlib``, or ``tensorflow.compat.v1`` when
``tools/make_placement_reference.py`` prints TF's placements) and builds its graph in the
default graph, so that both libraries build the same graph from one source. All run with
``device_count={'CPU': 2}``. Placeholders have unknown shapes so that TF's Python does not fold
``tf.shape`` into a constant.
"""

IMPORTED_GRAPH = """
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "a" op: "Exp" input: "x" device: "/device:CPU:1"
       attr { key: "T" value { type: DT_FLOAT } } }
node { name: "b" op: "Neg" input: "x"
       attr { key: "T" value { type: DT_FLOAT } }
       attr { key: "_class" value { list { s: "loc:@a" } } } }
node { name: "c" op: "Square" input: "b"
       attr { key: "T" value { type: DT_FLOAT } } }
node { name: "d" op: "Abs" input: "c"
       attr { key: "T" value { type: DT_FLOAT } }
       attr { key: "_class" value { list { s: "loc:@b" } } } }
"""


def explicit_devices(tf):
    x = tf.placeholder(tf.float32, None, name="x")
    with tf.device("/cpu:1"):
        y = tf.exp(x, name="y")
        p1 = tf.placeholder(tf.float32, None, name="p1")
    tf.multiply(y, 2.0, name="z")
    tf.shape(y, name="s")
    tf.shape(p1, name="s2")
    tf.size(y, name="sz")
    tf.rank(y, name="rk")
    i1 = tf.identity(y, name="i1")
    tf.identity(i1, name="i2")
    c = tf.constant(3.0, name="c")
    tf.add(c, y, name="a1")
    tf.add(c, x, name="a2")
    with tf.device("/cpu:1"):
        w = tf.exp(tf.identity(y, name="i3"), name="w")
        tf.multiply(tf.constant(2.0, name="c2"), w, name="u")
    with tf.device("/cpu:1"):
        k = tf.constant(1.0, name="on_one")
    tf.identity(k, name="follower")


def colocation(tf):
    x = tf.placeholder(tf.float32, None, name="x")
    with tf.device("/cpu:0"):
        a = tf.exp(x, name="a")
    with tf.device("/cpu:1"):
        with tf.colocate_with(a):
            b = tf.multiply(a, 3.0, name="b")
        tf.identity(b, name="c")
    e = tf.exp(x, name="e")
    with tf.colocate_with(e):
        with tf.device("/cpu:1"):
            tf.multiply(e, 3.0, name="f")
    with tf.colocate_with(x):
        tf.negative(x, name="g")
    with tf.device("/cpu:1"):
        h = tf.negative(x, name="h")
    with tf.colocate_with(h.op):
        with tf.colocate_with(None, ignore_existing=True):
            tf.square(h, name="k")


def imported(tf):
    from google.protobuf import text_format

    graph_def = text_format.Parse(IMPORTED_GRAPH, tf.GraphDef())
    tf.import_graph_def(graph_def, name="imp")


def training(tf):
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    labels = tf.placeholder(tf.float32, [None, 2], name="labels")
    with tf.device("/cpu:1"):
        w = tf.Variable(tf.zeros([4, 2]), name="w", use_resource=False)
        b = tf.Variable(tf.zeros([2]), name="b", use_resource=False)
    logits = tf.add(tf.matmul(x, w, name="matmul"), b, name="logits")
    loss = tf.reduce_mean(tf.square(logits - labels, name="sq"), name="loss")
    tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
    tf.global_variables_initializer()


SCENARIOS = {"explicit_devices": explicit_devices, "colocation": colocation,
             "imported": imported, "training": training}
