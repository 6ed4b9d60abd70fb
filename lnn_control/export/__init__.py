"""Policies out of PyTorch: one frozen tick module, ONNX, and plain C."""
