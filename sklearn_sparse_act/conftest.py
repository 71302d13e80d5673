"""Doctest collection for the package's modules (as in scikit-learn, the
conftest sits in the package; tests/conftest.py holds the test fixtures)."""

from importlib.util import find_spec

# onnx.py needs the optional 'onnx' extra (its doctest runs the exported
# model): without it the module cannot even be imported.
collect_ignore = (
    [] if find_spec("skl2onnx") and find_spec("onnxruntime") else ["onnx.py"]
)
