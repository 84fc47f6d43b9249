#!/usr/bin/python3
"""Writes tiny_cnn.onnx: a fixed-weight stand-in for a real feature CNN (e.g. VGG16's first
blocks), small enough to commit, with outputs known by hand so tests can check them.

Needs Debian's python3-onnx (apt-get install python3-onnx); the .onnx file is committed, so
building and testing fibseg do not. Run from anywhere: python3 make_tiny_cnn.py

Graph (input "slice" 1x1xHxW float, H and W free):
  conv 3x3, pad 1 -> 2 maps: [0] 3x3 mean, [1] horizontal gradient (right - left) / 2
  relu, max-pool 2x2 stride 2 (so fibseg must resize the maps back to the slice)
  conv 1x1 -> 3 maps: [0] = mean, [1] = gradient, [2] = mean - 0.5;  relu
On a flat image of grey g (0..1) the output is (g, 0, max(g - 0.5, 0)) everywhere.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

w1 = np.zeros((2, 1, 3, 3), np.float32)
w1[0, 0] = 1.0 / 9.0
w1[1, 0, 1, 0] = -0.5
w1[1, 0, 1, 2] = 0.5
b1 = np.zeros(2, np.float32)
w2 = np.zeros((3, 2, 1, 1), np.float32)
w2[0, 0] = 1.0
w2[1, 1] = 1.0
w2[2, 0] = 1.0
b2 = np.array([0.0, 0.0, -0.5], np.float32)

nodes = [
    helper.make_node("Conv", ["slice", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c1"], ["r1"]),
    helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], kernel_shape=[1, 1]),
    helper.make_node("Relu", ["c2"], ["features"]),
]
graph = helper.make_graph(
    nodes,
    "tiny_cnn",
    [helper.make_tensor_value_info("slice", TensorProto.FLOAT, [1, 1, "height", "width"])],
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 3, None, None])],
    initializer=[numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))],
)
model = helper.make_model(graph, producer_name="fibseg tests/data/make_tiny_cnn.py",
                          opset_imports=[helper.make_opsetid("", 11)])
model.ir_version = 7  # OpenCV 4.6's importer reads IR 7 / opset 11 reliably
onnx.checker.check_model(model)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_cnn.onnx")
onnx.save(model, out)
print("wrote", out)
