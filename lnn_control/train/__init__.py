"""Training: demonstrations (sim, rosbag2), datasets, BPTT/DAgger trainer, evaluation, reports."""
