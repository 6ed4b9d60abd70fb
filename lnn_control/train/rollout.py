"""Closed-loop episodes in the simulator: expert demonstrations, DAgger rollouts and evaluation.

One loop serves all three. At each control step the expert labels the state (``info``), and the
vehicle executes either the expert's action plus DART noise (demonstrations), or the learner's
action (DAgger, evaluation). The policy is stepped by the vehicle's own runtime,
``control.runner.PolicyRunner``: frames resized with ``control.preprocess.resize``, state carried
across steps, and the real elapsed time fed in.

Test-time perturbations that belong to the policy's input pipeline (not to the world) live here:
Gaussian input noise (Lechner et al. 2020) and dropped frames (the policy then sees one frame
after a longer gap, and the vehicle keeps the last command meanwhile).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lnn_control.control.preprocess import resize
from lnn_control.control.runner import PolicyRunner
from lnn_control.models.state_inputs import check_state_inputs, input_vector
from lnn_control.train.demos import Episode
import numpy as np


@dataclass(frozen=True)
class RolloutOptions:
    """How one episode is driven and perturbed.

    Args:
        max_steps: Control steps before the episode is cut.
        beta: Probability that the expert drives this episode (1: demonstration; 0: learner).
        noise_std: DART noise (action units) added to the expert's executed action.
        noise_hold: Steps each noise draw is held (correlated drift).
        input_noise_var: Gaussian noise on the policy's input image, variance relative to the
            image's own variance (Lechner et al.'s test: 0.1, 0.2, 0.3).
        frame_drop: Probability that a control step gets no new frame for the policy.
        record: Keep frames, IMU, expert labels and elapsed times as an ``Episode``.
        state_inputs: State inputs recorded after the IMU entries (``models.state_inputs``),
            taken from the observation by name; a policy gets its own config's.
        traces: Keep the policy's hidden state at each step (activity plots).
        backend: What runs the policy (``control.backends``): ``torch`` by default, since a
            DAgger iteration's policy changes between episodes; evaluation may pick the
            vehicle's ``auto``.
    """

    max_steps: int = 600
    beta: float = 1.0
    noise_std: float = 0.0
    noise_hold: int = 1
    input_noise_var: float = 0.0
    frame_drop: float = 0.0
    record: bool = False
    traces: bool = False
    state_inputs: tuple[str, ...] = ()
    backend: str = 'torch'

    def __post_init__(self) -> None:
        for name, low, high in (('beta', 0, 1), ('noise_std', 0, 10),
                                ('input_noise_var', 0, 10), ('frame_drop', 0, 0.95)):
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f'RolloutOptions.{name}: expected [{low}, {high}], got {value}')
        object.__setattr__(self, 'state_inputs',
                           check_state_inputs(self.state_inputs, 'RolloutOptions'))
        if self.max_steps < 1 or self.noise_hold < 1:
            raise ValueError('RolloutOptions: max_steps and noise_hold must be >= 1, got '
                             f'{self.max_steps}, {self.noise_hold}')


@dataclass
class RolloutResult:
    """What one episode produced."""

    metrics: dict[str, float]
    episode: Episode | None = None
    traces: np.ndarray | None = None


def make_env(env_id: str, env_kwargs: dict[str, Any], scenario: str = 'clear') -> Any:
    """Build a registered env with ``scenario`` (``import lnn_control.sim`` registers them)."""
    import gymnasium
    import lnn_control.sim  # noqa: F401  (registers the env ids)

    return gymnasium.make(env_id, scenario=scenario, **env_kwargs)


def control_period(env: Any) -> float:
    """Seconds per control step of an env (``control_dt``, else ``1 / control_hz``)."""
    unwrapped = env.unwrapped
    dt = getattr(unwrapped, 'control_dt', None)
    return float(dt) if dt is not None else 1.0 / float(unwrapped.control_hz)


def _noisy_input(image: np.ndarray, var: float, rng: np.random.Generator) -> np.ndarray:
    x = image.astype(np.float32)
    sigma = np.sqrt(var) * max(float(x.std()), 1.0)
    return np.clip(x + rng.normal(0.0, sigma, x.shape), 0, 255).astype(np.uint8)


def run_episode(env: Any, expert: Any, *, seed: int, options: RolloutOptions,
                policy: Any = None, rng: np.random.Generator,
                scenario: str | None = None) -> RolloutResult:
    """Drive one episode; see ``RolloutOptions``. ``policy=None`` means the expert drives."""
    reset_options = {'scenario': scenario} if scenario is not None else None
    obs, info = env.reset(seed=seed, options=reset_options)
    if hasattr(expert, 'reset'):
        expert.reset()
    dt = control_period(env)
    expert_drives = policy is None or rng.random() < options.beta
    runner = PolicyRunner(policy, nominal_dt=dt, backend=options.backend) \
        if policy is not None else None
    images, imus, labels, executed, elapsed, traces = [], [], [], [], [], []
    noise = np.zeros(env.action_space.shape, np.float32)
    low, high = env.action_space.low, env.action_space.high
    action = np.zeros(env.action_space.shape, np.float32)
    since_frame = dt
    for step in range(options.max_steps):
        label = np.asarray(expert.act(info), dtype=np.float32)
        if options.record:
            images.append(obs['image'])
            imus.append(input_vector(obs['imu'], obs, options.state_inputs))
            labels.append(label)
            elapsed.append(dt)
        if expert_drives:
            if options.noise_std > 0 and step % options.noise_hold == 0:
                noise = rng.normal(0.0, options.noise_std, noise.shape).astype(np.float32)
            action = label + noise
        elif step == 0 or rng.random() >= options.frame_drop:
            image = obs['image']
            if options.input_noise_var > 0:
                image = _noisy_input(image, options.input_noise_var, rng)
            frame = resize(image, runner.image_hw)
            action = runner.act(frame, input_vector(obs['imu'], obs, runner.state_inputs),
                                since_frame)
            since_frame = 0.0
            if options.traces:
                traces.append(runner.state_vector())
        since_frame += dt
        action = np.clip(action, low, high).astype(np.float32)
        if options.record:
            executed.append(action)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    metrics = episode_metrics(info)
    metrics['steps'] = float(step + 1)
    metrics['expert_drove'] = float(expert_drives)
    episode = None
    if options.record:
        episode = Episode(np.stack(images), np.stack(imus), np.stack(labels),
                          np.asarray(elapsed, np.float32), np.stack(executed))
    return RolloutResult(metrics, episode, np.stack(traces) if traces else None)


def episode_metrics(info: dict[str, Any]) -> dict[str, float]:
    """Return the env's task metrics from the last ``info``, as plain floats."""
    found = info.get('metrics', info)
    out = {}
    for key, value in found.items():
        if isinstance(value, (bool, int, float, np.floating, np.integer, np.bool_)):
            out[key] = float(value)
    return out
