"""Built-in shifts; importing this package registers them with the scenario engine."""
from lnn_control.sim.shifts import quad, rover, sensor, visual  # noqa: F401
