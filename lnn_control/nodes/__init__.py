"""rclpy nodes (drive, flight, sim bridge), the in-process launcher and the HIL harness.

Thin adapters over ``lnn_control.control``: they convert messages and hold ROS state only.
"""
