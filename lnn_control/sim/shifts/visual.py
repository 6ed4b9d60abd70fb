"""Shifts: visual (see lnn_control/sim/scenario.py)."""
