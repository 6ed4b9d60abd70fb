#!/usr/bin/env bash
# One-time set-up of a fresh machine: system libraries (apt) and a venv with everything pinned.
# Idempotent: re-running only installs what is missing. Called by `make drive` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

need_apt=()
# OSMesa: headless software OpenGL for MuJoCo's offscreen renderer (EGL fails without a GPU).
ldconfig -p 2>/dev/null | grep -q libOSMesa || need_apt+=(libosmesa6)
if ((${#need_apt[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "[bootstrap] apt installing: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

stamp="$VENV/.lnn_control-installed"
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ]; then
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # torch first, pinned, so nothing later can pull a multi-GB CUDA build.
  "$VENV/bin/python" -m pip install -q torch==2.13.0
  "$VENV/bin/python" -m pip install -q -e ".[ros,bag,viz,bench,onnx,test]"
  touch "$stamp"
fi
# The real ROS 2 launch system and `ros2` CLI have no PyPI wheels: where ../shared/ros2-launch
# exists (CI has it) install them, and make the venv an ament prefix so that
# `AMENT_PREFIX_PATH=$VENV ros2 launch lnn_control ...` finds this checkout. Elsewhere the tests
# that need them skip, saying so.
ros2_launch=../shared/ros2-launch
if [ -f "$ros2_launch/install.sh" ]; then
  bash "$ros2_launch/install.sh" "$VENV"
  "$VENV/bin/python" scripts/ament_prefix.py "$VENV" >/dev/null
fi
echo "[bootstrap] ready: $VENV"
