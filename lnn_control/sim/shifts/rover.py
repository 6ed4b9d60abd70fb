"""Shifts: rover (see lnn_control/sim/scenario.py)."""
