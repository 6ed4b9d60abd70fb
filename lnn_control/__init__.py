"""lnn_control: liquid neural network (NCP-wired CfC/LTC) control of rovers and drones."""

__version__ = '0.1.0'
