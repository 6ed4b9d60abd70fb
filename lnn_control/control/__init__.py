"""rclpy-free runtime: preprocessing, policy runner, safety, timing and frame conventions.

Everything here is plain NumPy/torch so that it runs (and is tested) without ROS, and so that
training, simulation evaluation and the ROS 2 nodes share one implementation.
"""
