"""``lnn-control evaluate``: closed-loop grids, JSON + Markdown + plots.

Examples::

    # the study behind docs/report.md (policies, scenarios, severities, seeds in the YAML)
    lnn-control evaluate config/train/eval_rover.yaml --out runs/eval_rover
    # one policy, a smaller grid
    lnn-control evaluate config/train/eval_rover.yaml --policy mine=runs/x/policy.pt --seeds 3

Writes ``results.json``, ``results.md`` and ``success_vs_severity.png`` into ``--out``, plus
(``--plots``) neuron activity on one lap and conv-head saliency, clear against shifted.
"""
from __future__ import annotations

import argparse
from collections.abc import Mapping
import json
import logging
import os
from pathlib import Path
import sys
from typing import Any

from lnn_control.control.backends import BACKENDS
from lnn_control.train.evaluate import EvalConfig, evaluate
import numpy as np
import yaml


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help='evaluation YAML (config/train/eval_*.yaml)')
    parser.add_argument('--out', help='output folder (default runs/<config name>)')
    parser.add_argument('--policy', action='append', default=[], metavar='NAME=PATH',
                        help='evaluate these instead of the YAML policies (repeatable)')
    parser.add_argument('--seeds', type=int, help='episodes per condition (overrides YAML)')
    parser.add_argument('--workers', type=int, help='parallel processes (default: CPU count)')
    parser.add_argument('--backend', choices=BACKENDS,
                        help="what steps the policies (default: the YAML's, else torch)")
    parser.add_argument('--plots', action='store_true',
                        help='also plot neuron activity and saliency for the first policy')
    parser.add_argument('--no-progress', action='store_true')


def load_study(path: str | Path) -> tuple[EvalConfig, dict[str, str]]:
    """Read an evaluation YAML: ``grid`` (``EvalConfig``) and ``policies`` (name -> path)."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ValueError(f'evaluation config not found: {path}') from None
    if not isinstance(doc, dict) or 'grid' not in doc:
        raise ValueError(f'{path}: expected a mapping with "grid" and "policies"')
    unknown = set(doc) - {'grid', 'policies'}
    if unknown:
        raise ValueError(f'{path}: unknown keys {sorted(unknown)}')
    try:
        config = EvalConfig.from_dict(doc['grid'])
    except (TypeError, ValueError) as exc:
        raise ValueError(f'{path}: grid: {exc}') from None
    policies = {str(k): str(v) for k, v in (doc.get('policies') or {}).items()}
    return config, policies


def shifts_seen(policies: Mapping[str, str]) -> dict[str, list[str]]:
    """Per policy, the scenarios it trained on (from its checkpoint metadata)."""
    from lnn_control.models.checkpoint import load_checkpoint

    return {name: list(load_checkpoint(path)[1].get('shifts_seen', ['clear']))
            for name, path in policies.items()}


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')
    os.environ.setdefault('MUJOCO_GL', 'osmesa')
    try:
        config, policies = load_study(args.config)
        if args.policy:
            policies = dict(p.split('=', 1) for p in args.policy)
        missing = [p for p in policies.values() if not Path(p).is_file()]
        if not policies or missing:
            raise ValueError(f'no policies to evaluate, or missing files: {missing}')
        overrides: dict[str, Any] = {'workers': args.workers or os.cpu_count() or 1}
        if args.seeds:
            overrides['seeds'] = args.seeds
        if args.backend:
            overrides['backend'] = args.backend
        config = EvalConfig.from_dict({**config.to_dict(), **overrides})
    except ValueError as exc:
        print(f'lnn-control evaluate: {exc}', file=sys.stderr)
        return 2
    out = Path(args.out or Path('runs') / Path(args.config).stem)
    out.mkdir(parents=True, exist_ok=True)
    seen = shifts_seen(policies)

    def save(results: dict[str, Any]) -> None:
        results['shifts_seen'] = seen
        write_outputs(results, out)

    results = evaluate(policies, config, progress=not args.no_progress, partial=save)
    save(results)
    if args.plots:
        name = next(iter(policies))
        plot_policy(policies[name], config, out, name)
    print(f'results: {out}/results.json, {out}/results.md')
    return 0


def write_outputs(results: Mapping[str, Any], out: Path) -> None:
    from lnn_control.train.report import markdown_table, plot_success_vs_severity

    (out / 'results.json').write_text(json.dumps(results, indent=1))
    (out / 'results.md').write_text(markdown_table(results, results.get('shifts_seen')) + '\n')
    if results['config']['scenarios']:
        plot_success_vs_severity(results, out / 'success_vs_severity.png')


def plot_policy(path: str, config: EvalConfig, out: Path, name: str,
                shifted: tuple[str, ...] = ('fog:3', 'night:3', 'rain:3')) -> None:
    """Activity traces over one clear episode, and saliency on clear vs shifted frames."""
    from lnn_control.models.checkpoint import load_checkpoint
    from lnn_control.train.experts import make_expert
    from lnn_control.train.report import plot_activity, plot_saliency, saliency
    from lnn_control.train.rollout import control_period, make_env, RolloutOptions, run_episode

    policy, _ = load_checkpoint(path)
    env = make_env(config.env_id, dict(config.env_kwargs))
    rng = np.random.default_rng(0)
    expert = make_expert(config.vehicle, env, rng)
    dt = control_period(env)
    seed = config.seed_base
    result = run_episode(env, expert, seed=seed, policy=policy, rng=rng, options=RolloutOptions(
        max_steps=config.max_steps, beta=0.0, traces=True))
    if result.traces is not None and result.traces.shape[1] > 0:
        layers = _layers(policy, result.traces.shape[1])
        plot_activity(result.traces, out / 'activity.png', dt, layers=layers,
                      title=f'{name}: neuron states over one clear episode')
    pairs = []
    for scenario in ('clear', *shifted):
        clip = run_episode(env, expert, seed=seed, rng=np.random.default_rng(1),
                           scenario=scenario, options=RolloutOptions(
                               max_steps=40, record=True,
                               state_inputs=policy.config.state_inputs))
        episode = clip.episode
        assert episode is not None
        from lnn_control.control.preprocess import resize

        hw = tuple(policy.config.image_hw)
        frames = np.stack([resize(f, hw) for f in episode.images[-16:]])
        smap = saliency(policy, frames, episode.imu[-16:], episode.elapsed[-16:])
        pairs.append((scenario, frames[-1], smap))
    plot_saliency(pairs, out / 'saliency.png')
    env.close()


def _layers(policy: Any, units: int) -> list[tuple[str, range]]:
    """Layer names and neuron ranges of a wired core (one group for other cores)."""
    wiring = getattr(getattr(getattr(policy.core, 'rnn', None), 'cell', None), 'wiring', None)
    if wiring is None or wiring.units != units:
        return [('state', range(units))]
    return list(zip(wiring.layer_names, wiring.layers, strict=True))
