"""Simulation: MuJoCo worlds behind Gymnasium envs, OOD scenarios, experts and metrics."""
