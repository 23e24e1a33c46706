"""A traced step as a self-contained SVG Gantt chart: the picture needs no viewer but a browser.

The Chrome trace (`timeline.Timeline.generate_chrome_trace_format`) stays the tool for
zooming through a long step in Perfetto; this picture is for a README, a slide or a notebook,
where a class wants to see at a glance what ran where:

* one lane per device (the devices of ``step_stats.dev_stats``, in order), split into rows
  where ops overlapped in time (the Chrome trace's lane rule);
* a node that ran inside another (a loop's iterations inside its ``While``, a branch inside
  its ``If``) sits in a row under it, and the caller gets a band (class ``group``) from its
  bar down to its deepest callee, so a loop reads as one group;
* one bar per executed node, coloured by op type, with a legend; each bar holds a ``<title>``
  (the node name, op, start and duration), which browsers show on hover, and its name when
  the bar is wide enough;
* one arrow per transfer between devices: from the end of the ``_Send`` (when the tensor was
  handed over) to the end of the matching ``_Recv`` (when the receiving device had it). Step
  stats without traced ``_Send``/``_Recv`` nodes (TF's own) get an arrow from the producer
  to each consumer on another device instead;
* a memory line under each lane when the stats carry memory: the allocator's bytes in use
  after each node (``AllocatorMemoryUsed.allocator_bytes_in_use``), or else the running sum
  of the nodes' ``allocation_records``. ``show_memory=True`` falls back to the lifetimes of
  the output tensors, the estimate TF's Chrome trace draws.

The SVG is plain text built with the standard library: no third-party package, no script, no
external style sheet, so it renders the same in a browser, on GitHub and in an ``<img>`` tag.
Elements carry classes (``lane``, ``op``, ``transfer``, ``memory``, ``legend``) and ``data-*``
attributes (node, op, device) so that tests and scripts can read a picture back.
"""

import collections
import math
from xml.sax.saxutils import escape, quoteattr

__all__ = ["render_svg"]

# Op colours: the most time-consuming op types get these, in order; the rest share _OTHER.
_PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#2f4b7c",
            "#9c755f", "#8cd17d", "#bab0ac", "#86bcb6", "#d4a6c8")
_OTHER = "#c7c7c7"
_TRANSFER_COLOURS = {"_Send": "#e15759", "_Recv": "#f6c9c9"}
_ARROW = "#c0392b"
_MEMORY = "#1f5f8b"

_LEFT = 150          # the device labels' column
_RIGHT = 20
_BAR = 16            # a bar's height
_ROW = 20            # a row's pitch (a device has a row per set of overlapping ops)
_LANE_PAD = 6
_MEMORY_HEIGHT = 34
_AXIS = 44           # title and time axis above the lanes
_CHAR = 6.0          # the width of a character at font-size 10, roughly


class _Bar:
    __slots__ = ("node", "device", "row", "x0", "x1", "y")

    def __init__(self, node, device):
        self.node = node
        self.device = device


def render_svg(step_stats, width=1000, show_memory=None, title=None):
    """The SVG Gantt chart of a traced step (see the module docstring).

    Args:
      step_stats: the `StepStats` of a traced run (``run_metadata.step_stats``).
      width: the picture's width in pixels; the height follows from the devices.
      show_memory: None draws a memory line when the stats carry memory figures; True also
        estimates one from the output tensors' lifetimes when they do not; False draws none.
      title: the caption at the top; None: the number of devices and the step's length.

    Returns:
      The SVG document, a string.

    Raises:
      ValueError: if the stats hold no executed node (the run was not traced).
    """
    from sessionlib.client import timeline  # (timeline imports this module lazily too)

    devices = collections.OrderedDict()
    for device_stats in step_stats.dev_stats:
        devices.setdefault(device_stats.device, []).extend(
            timeline._Node(stats) for stats in device_stats.node_stats)
    devices = collections.OrderedDict((name, nodes) for name, nodes in devices.items() if nodes)
    if not devices:
        raise ValueError("No node stats: run with RunOptions(trace_level=FULL_TRACE) and pass "
                         "its RunMetadata's step_stats.")
    start = min(node.start for nodes in devices.values() for node in nodes)
    end = max(node.end for nodes in devices.values() for node in nodes)
    span = max(end - start, 1e-3)
    plot = max(width - _LEFT - _RIGHT, 100)

    def x_of(time):
        return _LEFT + (time - start) / span * plot

    colours = _op_colours(devices)
    memory = {device: _memory_series(nodes, show_memory) for device, nodes in devices.items()}
    has_memory = any(memory.values())

    body, bars = [], {}
    y = _AXIS
    for index, (device, nodes) in enumerate(devices.items()):
        timeline._assign_lanes(nodes)
        row_of_lane = _rows_of_lanes(nodes)
        rows = max(row_of_lane[node.lane] + node.depth for node in nodes) + 1
        lane_height = rows * _ROW + 2 * _LANE_PAD
        busy = sum(node.end - node.start for node in nodes if node.parent is None)
        body.append(f'<g class="lane" data-device={quoteattr(device)}>')
        body.append(f'<rect x="0" y="{y}" width="{width}" height="{lane_height}" '
                    f'fill="{"#f5f7fa" if index % 2 == 0 else "#ffffff"}"/>')
        body.append(f'<text x="8" y="{y + lane_height / 2 - 2:.1f}" class="device">'
                    f'{escape(_short_device(device))}</text>')
        body.append(f'<text x="8" y="{y + lane_height / 2 + 11:.1f}" class="small">'
                    f'{len(nodes)} ops, busy {escape(_duration(busy))}</text>')
        body.extend(_group_svg(node, deepest, x_of, y + _LANE_PAD + row_of_lane[node.lane]
                               * _ROW) for node, deepest in _groups(nodes).items())
        for node in sorted(nodes, key=lambda n: n.start):
            bar = _Bar(node, device)
            bar.x0 = x_of(node.start)
            bar.x1 = max(x_of(node.end), bar.x0 + 1.0)
            bar.y = y + _LANE_PAD + (row_of_lane[node.lane] + node.depth) * _ROW
            bars.setdefault(node.name, []).append(bar)
            body.append(_bar_svg(bar, colours.get(node.op, _OTHER), start))
        body.append("</g>")
        y += lane_height
        series = memory[device]
        if has_memory:
            body.append(_memory_svg(series, device, y, x_of, width))
            y += _MEMORY_HEIGHT

    arrows = [_arrow_svg(source, target) for source, target in _transfers(devices, bars)]
    legend, legend_height = _legend_svg(colours, y + 10, width, has_memory)
    height = y + 10 + legend_height
    caption = title if title is not None else (
        f"{_count(len(devices), 'device')}, step of {_duration(span)}"
        f" ({_count(sum(len(n) for n in devices.values()), 'op')}, "
        f"{_count(len(arrows), 'transfer')})")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="Helvetica, Arial, sans-serif">',
        "<style>text{font-size:10px;fill:#222}.device{font-size:12px;font-weight:bold}"
        ".small{font-size:9px;fill:#555}.title{font-size:13px;font-weight:bold}"
        ".op text{font-size:9px;fill:#fff;pointer-events:none}</style>",
        f'<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        f'fill="{_ARROW}"/></marker></defs>',
        f'<rect width="{width}" height="{height:.0f}" fill="#ffffff"/>',
        f'<text x="8" y="16" class="title">{escape(caption)}</text>',
    ]
    parts += _axis_svg(start, span, x_of, _AXIS, y, plot)
    parts += body
    parts += arrows
    parts.append(legend)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _rows_of_lanes(nodes):
    """The first row of each lane: a lane takes a row per nesting depth of its nodes."""
    depth_of_lane = {}
    for node in nodes:
        depth_of_lane[node.lane] = max(depth_of_lane.get(node.lane, 0), node.depth)
    rows, first = {}, 0
    for lane in sorted(depth_of_lane):
        rows[lane] = first
        first += depth_of_lane[lane] + 1
    return rows


def _groups(nodes):
    """{node that others ran inside: the depth of its deepest callee}."""
    deepest = {}
    for node in nodes:
        caller = node.parent
        while caller is not None:
            if deepest.get(caller, -1) >= node.depth:
                break
            deepest[caller] = node.depth
            caller = caller.parent
    return deepest


def _group_svg(node, deepest, x_of, lane_top):
    """The band behind a group: from its node's row down to its deepest callee's."""
    x0, x1 = x_of(node.start), x_of(node.end)
    top = lane_top + node.depth * _ROW - 2
    height = (deepest - node.depth + 1) * _ROW
    return (f'<rect class="group" data-node={quoteattr(node.name)} x="{x0 - 1:.2f}" '
            f'y="{top}" width="{max(x1 - x0, 1.0) + 2:.2f}" height="{height}" rx="3" '
            f'fill="#dfe6ee" stroke="#8a9bb0" stroke-width="0.8"/>')


def _count(number, noun):
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _short_device(device):
    return device.rsplit("/", 1)[-1].replace("device:", "") or device


def _duration(micros):
    if micros >= 1000:
        return f"{micros / 1000:.3g} ms"
    if micros >= 1:
        return f"{micros:.3g} us"
    return f"{micros * 1000:.3g} ns"


def _op_colours(devices):
    """op type -> colour: the op types that took most time first; transfers keep theirs."""
    total = collections.Counter()
    for nodes in devices.values():
        for node in nodes:
            total[node.op] += node.end - node.start
    colours = {}
    ranked = [op for op, _ in total.most_common() if op not in _TRANSFER_COLOURS]
    for op, colour in zip(ranked, _PALETTE):
        colours[op] = colour
    for op in _TRANSFER_COLOURS:
        if op in total:
            colours[op] = _TRANSFER_COLOURS[op]
    return colours


def _bar_svg(bar, colour, start):
    node = bar.node
    width = bar.x1 - bar.x0
    tip = (f"{node.name} ({node.op}) on {_short_device(bar.device)}: "
           f"+{_duration(node.start - start)}, {_duration(node.end - node.start)}")
    parts = [f'<g class="op" data-node={quoteattr(node.name)} data-op={quoteattr(node.op)}>',
             f"<title>{escape(tip)}</title>",
             f'<rect x="{bar.x0:.2f}" y="{bar.y}" width="{width:.2f}" height="{_BAR}" '
             f'rx="2" fill="{colour}"/>']
    fits = int((width - 4) / _CHAR)
    if fits >= 3:
        text = node.name if len(node.name) <= fits else node.name[:fits - 1] + "\u2026"
        ink = "" if _is_dark(colour) else ' style="fill:#222"'   # readable on light bars
        parts.append(f'<text x="{bar.x0 + 2:.2f}" y="{bar.y + 12}"{ink}>{escape(text)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _is_dark(colour):
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.299 * red + 0.587 * green + 0.114 * blue < 160


def _nice_step(span, target=8):
    """A 1, 2 or 5 times a power of ten that cuts `span` into about `target` ticks."""
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _axis_svg(start, span, x_of, top, bottom, plot):
    step = _nice_step(span, max(2, int(plot / 110)))
    unit, scale = ("ms", 1000.0) if span >= 2000 else ("us", 1.0)
    parts = ['<g class="axis">']
    tick = 0.0
    while tick <= span + 1e-9:
        x = x_of(start + tick)
        value = tick / scale
        label = f"{value:g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
        parts.append(f'<line x1="{x:.2f}" y1="{top - 4}" x2="{x:.2f}" y2="{bottom}" '
                     f'stroke="#e2e6ea" stroke-width="1"/>')
        parts.append(f'<text x="{x:.2f}" y="{top - 8}" text-anchor="middle">{label}</text>')
        tick += step
    parts.append(f'<text x="8" y="{top - 8}" class="small">time ({unit})</text>')
    parts.append("</g>")
    return parts


# ---- transfers ------------------------------------------------------------------------------

def _transfers(devices, bars):
    """(source bar, target bar) per transfer between devices.

    A `_Recv` pairs with the `_Send` its label names, or else with a `_Send` of the tensor its
    label names (``"y/_3 = _Recv(y)"``) on another device: the earliest unpaired one that was
    handed over before the receive ended. A node that reads a tensor produced on another
    device without a `_Recv` in between (TF's step stats, where received inputs are named
    ``"y/_3"``) gets an arrow from the producer.
    """
    sends = collections.defaultdict(list)
    for nodes in devices.values():
        for node in nodes:
            if node.op == "_Send" and node.inputs:
                sends[node.inputs[0].lstrip("^")].append(node)
    for candidates in sends.values():
        candidates.sort(key=lambda n: n.end)
    producer_of = {}
    for device, nodes in devices.items():
        for node in nodes:
            if node.op != "_Send":
                producer_of.setdefault(node.name, device)
    paired = set()
    pairs = []
    for device, nodes in devices.items():
        for node in nodes:
            target = _bar_of(bars, node, device)
            if node.op == "_Recv" and node.inputs:
                tensor = node.inputs[0].lstrip("^")
                match = None
                named = bars.get(tensor, ())
                if named and named[0].node.op == "_Send":   # "_Recv(<its _Send>)"
                    match = named[0]
                    paired.add(id(match.node))
                for send in () if match else sends.get(tensor, ()):
                    send_bar = _bar_of(bars, send, None)
                    if (id(send) not in paired and send_bar.device != device
                            and send.end <= node.end):
                        match = send_bar
                        paired.add(id(send))
                        break
                if match is None:
                    match = _producer_bar(bars, tensor, device)
                if match is not None:
                    pairs.append((match, target))
                continue
            if node.op == "_Send":
                continue
            for name in node.inputs:
                if name.startswith("^"):
                    continue
                source = _producer_bar(bars, name, device, strip_recv_suffix=True)
                if source is not None:
                    pairs.append((source, target))
    return pairs


def _bar_of(bars, node, device):
    for bar in bars[node.name]:
        if bar.node is node and (device is None or bar.device == device):
            return bar
    return None


def _producer_bar(bars, tensor, device, strip_recv_suffix=False):
    """The bar of the node on another device than `device` that produced `tensor`
    (``"y"``, ``"y:1"``); with `strip_recv_suffix`, a received name ``"y/_3"`` that no node
    bears stands for ``"y"``, as TF's Timeline reads it."""
    name = tensor.split(":")[0] if ":" in tensor.rsplit("/", 1)[-1] else tensor
    if name not in bars and strip_recv_suffix:
        index = name.rfind("/_")
        if index > 0 and name[index + 2:].isdigit():
            name = name[:index]
    for bar in bars.get(name, ()):
        if bar.device != device and bar.node.op != "_Send":
            return bar
    return None


def _arrow_svg(source, target):
    x0, y0 = source.x1, source.y + _BAR / 2
    x1, y1 = target.x1, target.y + _BAR / 2
    if target.node.op != "_Recv":
        x1 = target.x0          # a consumer reads its input when it starts
    # A gentle curve, so that arrows between lanes far apart stay readable.
    bend = max(12.0, abs(y1 - y0) / 3)
    path = (f"M{x0:.2f},{y0:.1f} C{x0 + bend:.2f},{y0:.1f} {x1 - bend:.2f},{y1:.1f} "
            f"{x1:.2f},{y1:.1f}")
    tip = (f"{source.node.name} ({_short_device(source.device)}) -> {target.node.name} "
           f"({_short_device(target.device)})")
    return (f'<path class="transfer" data-from={quoteattr(source.node.name)} '
            f'data-to={quoteattr(target.node.name)} d="{path}" fill="none" stroke="{_ARROW}" '
            f'stroke-width="1.3" marker-end="url(#arrow)"><title>{escape(tip)}</title></path>')


# ---- memory ---------------------------------------------------------------------------------

def _memory_series(nodes, show_memory):
    """[(time, bytes in use)] of one device, in time order; [] when there is nothing to
    draw."""
    if show_memory is False:
        return []
    in_use = collections.defaultdict(dict)   # time -> allocator -> bytes in use
    records = []
    for node in nodes:
        for used in node.stats.memory:
            if used.allocator_bytes_in_use:
                in_use[node.end][used.allocator_name] = used.allocator_bytes_in_use
            for record in used.allocation_records:
                records.append((record.alloc_micros, record.alloc_bytes))
    if in_use:
        series, latest = [], {}
        for time in sorted(in_use):
            latest.update(in_use[time])
            series.append((time, sum(latest.values())))
        return series
    if records:
        series, total = [], 0
        for time, change in sorted(records):
            total += change
            series.append((float(time), total))
        return series
    if show_memory:
        changes = []
        for node in nodes:
            for output in node.outputs:
                size = output.tensor_description.allocation_description.requested_bytes
                if size:
                    changes.append((node.start, size))
                    changes.append((node.end, -size))
        series, total = [], 0
        for time, change in sorted(changes):
            total += change
            series.append((time, total))
        return series
    return []


def _bytes(count):
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(count) >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} B"


def _memory_svg(series, device, top, x_of, width):
    parts = [f'<g class="memory" data-device={quoteattr(device)}>',
             f'<rect x="0" y="{top}" width="{width}" height="{_MEMORY_HEIGHT}" fill="#eef4f9"/>']
    if not series:
        parts.append(f'<text x="8" y="{top + 20}" class="small">memory: not recorded</text>')
        parts.append("</g>")
        return "".join(parts)
    peak = max(max(value for _, value in series), 1)
    base = top + _MEMORY_HEIGHT - 4

    def y_of(value):
        return base - value / peak * (_MEMORY_HEIGHT - 10)

    points = [(x_of(series[0][0]), base)]
    previous = 0
    for time, value in series:   # a step line: usage holds until the next change
        x = x_of(time)
        points.append((x, y_of(previous)))
        points.append((x, y_of(value)))
        previous = value
    text = " ".join(f"{x:.2f},{y:.1f}" for x, y in points)
    parts.append(f'<polyline points="{text}" fill="none" stroke="{_MEMORY}" '
                 f'stroke-width="1.5"><title>{escape(_short_device(device))} memory in use, '
                 f'peak {escape(_bytes(peak))}</title></polyline>')
    parts.append(f'<text x="8" y="{top + 14}" class="small">memory in use</text>')
    parts.append(f'<text x="8" y="{top + 26}" class="small">peak {escape(_bytes(peak))}'
                 "</text>")
    parts.append("</g>")
    return "".join(parts)


def _legend_svg(colours, top, width, has_memory):
    """The legend (swatch and op type per entry, wrapped into rows); returns (svg, height)."""
    entries = list(colours.items()) + [("other", _OTHER)]
    parts = ['<g class="legend">']
    x, y = 8, top
    for op, colour in entries:
        item_width = 22 + _CHAR * len(op) + 14
        if x + item_width > width - 8 and x > 8:
            x, y = 8, y + 16
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="10" rx="2" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 9}" data-op={quoteattr(op)}>'
                     f'{escape(op)}</text>')
        x += item_width
    for label, svg in (("transfer", f'<line x1="{{x}}" y1="{{y5}}" x2="{{x12}}" y2="{{y5}}" '
                                    f'stroke="{_ARROW}" stroke-width="1.5" '
                                    'marker-end="url(#arrow)"/>'),
                       ("memory in use", f'<line x1="{{x}}" y1="{{y5}}" x2="{{x12}}" '
                                         f'y2="{{y5}}" stroke="{_MEMORY}" '
                                         'stroke-width="1.5"/>')):
        if label == "memory in use" and not has_memory:
            continue
        item_width = 22 + _CHAR * len(label) + 14
        if x + item_width > width - 8 and x > 8:
            x, y = 8, y + 16
        parts.append(svg.format(x=x, y5=y + 5, x12=x + 14))
        parts.append(f'<text x="{x + 18}" y="{y + 9}">{label}</text>')
        x += item_width + 4
    parts.append("</g>")
    return "".join(parts), y - top + 20
