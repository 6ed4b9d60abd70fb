"""The out-of-distribution scenario engine, shared by the rover and the quadrotor.

A *shift* is one perturbation (fog, wind, ...) at a severity 1-5. A *scenario* is a named set of
shifts, declared in YAML under ``sim/scenarios/``. Scenarios are written on the command line as
``NAME:SEVERITY``, combined with ``+`` (``rain:3+crosswind:2``); ``clear`` is in distribution.

Shifts are applied at reset (to the MuJoCo model and the env's knobs: no recompiling) and per step
(to images, IMU samples and actions). Every random draw comes from the generator the env hands
over, so a scenario is deterministic with the env's seed.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from lnn_control.paths import sim_asset_path
import numpy as np
import yaml

SEVERITIES = (1, 2, 3, 4, 5)
VEHICLES = ('rover', 'quad')


class ScenarioError(ValueError):
    """A scenario string or file is wrong: the message names the file, the shift and the value."""


class Shift:
    """One perturbation at one severity. Subclasses override only the hooks they need.

    Hooks receive ``world``: the env's adapter (MuJoCo ``model``/``data`` plus named knobs such as
    ``world.knobs['steering_bias']``), and ``rng``: a ``numpy.random.Generator`` owned by the env.
    """

    name: ClassVar[str] = ''
    vehicles: ClassVar[tuple[str, ...]] = VEHICLES
    #: 'visual', 'physics' or 'sensor': used by reports and by domain randomization subsets.
    group: ClassVar[str] = 'visual'
    #: True if ``apply_image`` reads ``SimWorld.depth`` (envs then render depth as well).
    needs_depth: ClassVar[bool] = False

    def __init__(self, severity: int, **params: Any) -> None:
        if severity not in SEVERITIES:
            raise ScenarioError(f'{self.name}: severity must be one of 1-5, got {severity!r}')
        self.severity = severity
        self.params = dict(params)

    def level(self, table: Iterable[float]) -> float:
        """Pick this severity's value from a five-entry table (ImageNet-C style)."""
        values = tuple(table)
        if len(values) != len(SEVERITIES):
            raise AssertionError(f'{self.name}: severity table needs 5 values, got {len(values)}')
        return float(self.params.get('value', values[self.severity - 1]))

    def apply_world(self, world: Any, rng: np.random.Generator) -> None:
        """At reset: change the model (lights, materials, wind, mass, friction) or env knobs."""

    def apply_image(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Per frame: return the perturbed uint8 HxWx3 image."""
        return image

    def apply_imu(self, imu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Per sample: return the perturbed IMU vector."""
        return imu

    def apply_action(self, action: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Per step: return the action the vehicle actually receives."""
        return action

    def __repr__(self) -> str:
        return f'{type(self).__name__}(severity={self.severity})'


_REGISTRY: dict[str, type[Shift]] = {}


def register_shift(cls: type[Shift]) -> type[Shift]:
    """Class decorator: make a shift available to scenario files by its ``name``."""
    if not cls.name:
        raise TypeError(f'{cls.__name__}: a registered shift needs a name')
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise TypeError(f'shift {cls.name!r} registered twice '
                        f'({_REGISTRY[cls.name].__name__}, {cls.__name__})')
    _REGISTRY[cls.name] = cls
    return cls


def registered_shifts() -> Mapping[str, type[Shift]]:
    """All known shifts, by name (imports the built-in shift modules first)."""
    _load_builtin_shifts()
    return dict(_REGISTRY)


_BUILTIN_SHIFT_MODULES = ('lnn_control.sim.shifts',)


def _load_builtin_shifts() -> None:
    import importlib

    for module in _BUILTIN_SHIFT_MODULES:
        importlib.import_module(module)


@dataclass(frozen=True)
class ShiftSpec:
    """A shift by name; ``severity=None`` takes the scenario's severity."""

    name: str
    severity: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A named set of shifts, as declared in ``sim/scenarios/NAME.yaml``."""

    name: str
    description: str = ''
    shifts: tuple[ShiftSpec, ...] = ()
    vehicles: tuple[str, ...] = VEHICLES

    def instantiate(self, severity: int) -> list[Shift]:
        """Build the shift objects at ``severity`` (each spec may pin its own)."""
        if severity not in SEVERITIES:
            raise ScenarioError(f'scenario {self.name!r}: severity must be 1-5, got {severity!r}')
        shifts = registered_shifts()
        out = []
        for spec in self.shifts:
            cls = shifts.get(spec.name)
            if cls is None:
                raise ScenarioError(f'scenario {self.name!r}: unknown shift {spec.name!r}; '
                                    f'known: {sorted(shifts)}')
            out.append(cls(spec.severity or severity, **dict(spec.params)))
        return out


def scenario_dir() -> Path:
    return sim_asset_path('scenarios')


def load_scenario_file(path: str | Path) -> Scenario:
    """Read and validate one scenario YAML file; errors name the file and the field."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f'scenario file not found: {path}') from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f'{path}: not valid YAML: {exc}') from None
    if not isinstance(doc, dict):
        raise ScenarioError(
            f'{path}: expected a mapping with name/shifts, got {type(doc).__name__}')
    unknown = set(doc) - {'name', 'description', 'shifts', 'vehicles'}
    if unknown:
        raise ScenarioError(f'{path}: unknown keys {sorted(unknown)}')
    name = doc.get('name', path.stem)
    known = registered_shifts()
    specs = []
    for i, entry in enumerate(doc.get('shifts') or []):
        if isinstance(entry, str):
            entry = {'name': entry}
        if not isinstance(entry, dict) or 'name' not in entry:
            raise ScenarioError(f'{path}: shifts[{i}] must be a name or a mapping with "name"')
        shift_name = entry['name']
        if shift_name not in known:
            raise ScenarioError(
                f'{path}: shifts[{i}]: unknown shift {shift_name!r}; known: {sorted(known)}')
        severity = entry.get('severity')
        if severity is not None and severity not in SEVERITIES:
            raise ScenarioError(
                f'{path}: shifts[{i}] ({shift_name}): severity must be 1-5, got {severity!r}')
        params = {k: v for k, v in entry.items() if k not in ('name', 'severity')}
        specs.append(ShiftSpec(shift_name, severity, params))
    vehicles = tuple(doc.get('vehicles') or VEHICLES)
    bad = set(vehicles) - set(VEHICLES)
    if bad:
        raise ScenarioError(f'{path}: vehicles must be among {VEHICLES}, got {sorted(bad)}')
    return Scenario(name, str(doc.get('description', '')), tuple(specs), vehicles)


def available_scenarios(vehicle: str | None = None) -> dict[str, Scenario]:
    """Every scenario shipped in ``sim/scenarios/``, optionally only those for one vehicle."""
    found = {}
    for path in sorted(scenario_dir().glob('*.yaml')):
        scenario = load_scenario_file(path)
        if vehicle is None or vehicle in scenario.vehicles:
            found[scenario.name] = scenario
    return found


def parse_scenarios(text: str, vehicle: str | None = None) -> list[Shift]:
    """Turn ``'rain:3+crosswind:2'`` (or ``'clear'``, or a YAML path with ``:N``) into shifts.

    A missing severity means 3. Errors name the offending part and the known scenarios.
    """
    shifts: list[Shift] = []
    for part in filter(None, (p.strip() for p in text.split('+'))):
        name, _, level = part.rpartition(':') if ':' in part else (part, '', '3')
        try:
            severity = int(level)
        except ValueError:
            raise ScenarioError(
                f'{part!r}: severity must be an integer 1-5, got {level!r}') from None
        if name.endswith('.yaml'):
            scenario = load_scenario_file(name)
        else:
            catalogue = available_scenarios()
            if name not in catalogue:
                raise ScenarioError(f'unknown scenario {name!r}; known: {sorted(catalogue)}')
            scenario = catalogue[name]
        if vehicle is not None and vehicle not in scenario.vehicles:
            raise ScenarioError(f'scenario {scenario.name!r} does not apply to the {vehicle}')
        shifts.extend(scenario.instantiate(severity))
    return shifts


class ActiveScenario:
    """The shifts of one episode, with the hooks chained in declaration order."""

    def __init__(self, shifts: Iterable[Shift] = ()) -> None:
        self.shifts = list(shifts)

    def _chain(self, hook: str, value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for shift in self.shifts:
            value = getattr(shift, hook)(value, rng)
        return value

    def apply_world(self, world: Any, rng: np.random.Generator) -> None:
        for shift in self.shifts:
            shift.apply_world(world, rng)

    def apply_image(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._chain('apply_image', image, rng)

    def apply_imu(self, imu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._chain('apply_imu', imu, rng)

    def apply_action(self, action: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self._chain('apply_action', action, rng)

    def __bool__(self) -> bool:
        return bool(self.shifts)

    @property
    def needs_depth(self) -> bool:
        """Whether any shift wants the per-pixel depth in ``SimWorld.depth`` every frame."""
        return any(shift.needs_depth for shift in self.shifts)

    def describe(self) -> str:
        return '+'.join(f'{s.name}:{s.severity}' for s in self.shifts) or 'clear'


@dataclass
class SimWorld:
    """What a shift may touch at reset: the MuJoCo model/data and the env's named knobs.

    The env restores its model and knobs to their defaults before every reset, so shifts always
    start from the in-distribution world. Each env documents the knobs it reads. Knobs shared by
    the built-in shifts (a shift skips any its world lacks):

    | knob              | type                        | meaning                                  |
    |-------------------|-----------------------------|------------------------------------------|
    | ``camera``        | str                         | name of the camera that makes the image  |
    | ``view_distance`` | float, m                    | far end of the scene that matters (fog)  |
    | ``fog_visibility``| float, m                    | fog's visibility at severity 1 (default  |
    |                   |                             | ``view_distance``; quad: 60)             |
    | ``headlights``    | dict height/pitch/fovy/reach| lamp geometry for the night ground pool  |
    | ``lamp``          | dict reach (m)/beam (rad)   | night: a lamp at the image camera, along |
    |                   |                             | it, lighting by depth (quad)             |
    | ``sky_tint``      | (r, g, b) or None           | skybox colour multipliers (render.py)    |
    | ``imu_noise_scale``| float                      | x the env's nominal IMU noise            |
    | ``road_style``    | rover_scene.RoadStyle       | rover: painted road look                 |
    | ``wind``, ``wind_gust``, ``friction_scale`` | | rover physics (shifts/rover.py)          |

    ``depth`` holds the current frame's per-pixel distance (m, float32 HxW) while a shift with
    ``needs_depth`` is active and the env renders depth; otherwise it is None.
    """

    vehicle: str
    model: Any
    data: Any
    knobs: dict[str, Any] = field(default_factory=dict)
    depth: Any = None


#: Model fields a shift may change at reset; ``ModelDefaults`` puts them back.
RESTORED_MODEL_FIELDS = (
    'light_active', 'light_ambient', 'light_diffuse', 'light_specular', 'light_pos', 'light_dir',
    'light_attenuation', 'light_cutoff', 'light_exponent', 'geom_rgba', 'geom_pos', 'geom_quat',
    'geom_size', 'geom_friction', 'mat_rgba', 'mat_specular', 'mat_shininess',
    'mat_reflectance', 'mat_emission', 'cam_pos', 'cam_quat', 'cam_fovy', 'body_mass',
    'body_subtreemass',
)


class ModelDefaults:
    """A snapshot of the model fields shifts touch, so each reset starts from the clear world.

    Restores ``RESTORED_MODEL_FIELDS`` (those the model has), the headlight and ``opt.wind``.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._fields = {name: np.array(getattr(model, name), copy=True)
                        for name in RESTORED_MODEL_FIELDS if hasattr(model, name)}
        head = model.vis.headlight
        self._headlight = (np.array(head.ambient), np.array(head.diffuse),
                           np.array(head.specular), int(head.active))
        self._wind = np.array(model.opt.wind)

    def restore(self) -> None:
        for name, value in self._fields.items():
            getattr(self.model, name)[...] = value
        head = self.model.vis.headlight
        head.ambient, head.diffuse, head.specular, head.active = self._headlight
        self.model.opt.wind[:] = self._wind
