"""Shifts: sensor (see lnn_control/sim/scenario.py)."""
