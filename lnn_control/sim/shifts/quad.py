"""Shifts: quad (see lnn_control/sim/scenario.py)."""
