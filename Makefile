# The two commands of the README: `make drive` (main job) and `make test`. Both set up a fresh machine first.
VENV ?= .venv
PY := $(VENV)/bin/python
export MUJOCO_GL ?= osmesa
export PYOPENGL_PLATFORM ?= osmesa

.PHONY: setup drive test lint bench
setup:
	@bash scripts/bootstrap.sh

drive: setup
	$(PY) -m lnn_control.cli launch sim_drive

test: setup
	$(PY) -m pytest -q -p no:cacheprovider test

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ament_flake8 >/dev/null && echo "ament_flake8: ok"
	$(VENV)/bin/ament_pep257 --convention google --add-ignore D100 D101 D102 D103 D104 D105 D106 D107 -- . >/dev/null && echo "ament_pep257: ok"

bench: setup
	$(PY) bench/bench_models.py
	$(PY) bench/bench_c_export.py
	$(PY) bench/bench_preprocess.py
	$(PY) bench/bench_rover_env.py
	$(PY) bench/bench_quad_env.py
	$(PY) bench/bench_control_loop.py
