"""``lnn-control sim``: simulator tools.

Actions: ``gallery`` (PNG grid of the scenarios at severities 1, 3, 5), ``drive-expert`` (run the
expert and print the episode metrics) and ``scenarios`` (list the scenario catalogue).
"""
from __future__ import annotations

import argparse
import logging

import numpy as np

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest='action', required=True)
    gallery = actions.add_parser('gallery', help='write a PNG grid of every scenario')
    gallery.add_argument('--vehicle', choices=['rover', 'quad'], default='rover')
    gallery.add_argument('--out', default=None,
                         help='output PNG (default docs/img/<vehicle>_gallery.png)')
    gallery.add_argument('--severities', type=int, nargs='+', default=[1, 3, 5])
    gallery.add_argument('--seed', type=int, default=None, help="default: the vehicle's own")
    gallery.add_argument('--groups', nargs='+', default=['visual', 'sensor', 'physics'],
                         choices=['visual', 'sensor', 'physics'])
    drive = actions.add_parser('drive-expert', help='drive the expert, print metrics')
    drive.add_argument('--episodes', type=int, default=3)
    drive.add_argument('--scenario', default='clear')
    drive.add_argument('--split', default='train', choices=['train', 'eval'])
    drive.add_argument('--seed', type=int, default=0)
    drive.add_argument('--laps', type=float, default=1.0)
    drive.add_argument('--noise', type=float, default=0.0, help='steering noise std (DART)')
    listing = actions.add_parser('scenarios', help='list the scenarios')
    listing.add_argument('--vehicle', choices=['rover', 'quad'], default=None)


def _gallery(args: argparse.Namespace) -> int:
    from lnn_control.sim.gallery import make_gallery

    out = args.out or f'docs/img/{args.vehicle}_gallery.png'
    path = make_gallery(out, vehicle=args.vehicle, severities=args.severities, seed=args.seed,
                        groups=args.groups)
    print(f'wrote {path}')
    return 0


def _drive(args: argparse.Namespace) -> int:
    from lnn_control.sim.metrics import aggregate
    from lnn_control.sim.rover_env import RoverLaneEnv
    from lnn_control.sim.rover_expert import RoverExpert

    env = RoverLaneEnv(scenario=args.scenario, laps=args.laps, track_split=args.split)
    rng = np.random.default_rng(args.seed)
    expert = RoverExpert(env, noise=args.noise, rng=rng if args.noise > 0 else None)
    summaries = []
    try:
        for episode in range(args.episodes):
            _, info = env.reset(seed=args.seed + episode)
            expert.reset()
            terminated = False
            while not terminated:
                _, _, terminated, _, info = env.step(expert.act(info))
            m = info['metrics']
            summaries.append(m)
            print(f"episode {episode}: track {info['track_seed']} completion "
                  f"{m['completion']:.2f} rms {m['rms_lateral_error']:.3f} m "
                  f"max {m['max_lateral_error']:.3f} m smooth {m['steering_smoothness']:.4f}")
    finally:
        env.close()
    print('mean: ' + ', '.join(f'{k} {v:.3f}' for k, v in aggregate(summaries).items()))
    return 0


def _list(args: argparse.Namespace) -> int:
    from lnn_control.sim.scenario import available_scenarios

    for name, scenario in sorted(available_scenarios(args.vehicle).items()):
        print(f"{name:16s} [{', '.join(scenario.vehicles)}] {scenario.description}")
    return 0


_ACTIONS = {'gallery': _gallery, 'drive-expert': _drive, 'scenarios': _list}


def run(args: argparse.Namespace) -> int:
    return _ACTIONS[args.action](args)
