r"""``lnn-control train``: record demonstrations and train a policy from a YAML config.

Examples::

    lnn-control train config/train/rover_ncp_cfc.yaml --ship config/policies/rover_ncp_cfc.pt
    lnn-control train config/train/rover_ncp_cfc.yaml --set train.epochs=2 --out runs/quick
    lnn-control train config/train/rover_from_bag.yaml --bag ~/bags/drive1 \
        --image-topic /camera/image_raw --imu-topic /imu/data --command-topic /cmd_vel

Rerunning the same command resumes a killed run (see ``pipeline.py``).
"""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
import random
import shutil
import sys
from typing import Any

from lnn_control.train.config import ConfigError, load_config
from lnn_control.train.demos import DatasetError
import numpy as np
import yaml


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help='training YAML (config/train/*.yaml)')
    parser.add_argument('--out', help='run folder (default runs/<name>)')
    parser.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                        help='override a config value, e.g. train.epochs=5 (YAML value)')
    parser.add_argument('--data', action='append', default=[], metavar='DIR',
                        help='extra demonstration folder to train on (repeatable)')
    parser.add_argument('--bag', action='append', default=[], metavar='PATH',
                        help='rosbag2 (MCAP or sqlite3) to import and train on (repeatable)')
    parser.add_argument('--image-topic', default='/camera/image_raw')
    parser.add_argument('--imu-topic', default='/imu/data')
    parser.add_argument('--command-topic', default='/cmd_vel')
    parser.add_argument('--max-angular-z', type=float, default=1.0,
                        help='yaw rate (rad/s) that maps to full steering')
    parser.add_argument('--ship', metavar='PATH', help='copy the final policy here')
    parser.add_argument('--threads', type=int, help='torch threads (default: config threads)')
    parser.add_argument('--device', default='cpu', help="torch device: 'cpu' or 'cuda'")
    parser.add_argument('--workers', type=int, help='episode workers (default: data.workers)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    parser.add_argument('--record-only', action='store_true',
                        help='record the demonstrations and stop (to share them between runs)')


def _overrides(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise ConfigError(f'--set {item!r}: expected KEY=VALUE')
        out[key] = yaml.safe_load(value)
    return out


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch once, at the entry point (library code takes seeds)."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run(args: argparse.Namespace) -> int:
    from lnn_control.train.bagdata import BagConfig, import_bag
    from lnn_control.train.pipeline import train_run
    import torch

    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')
    os.environ.setdefault('MUJOCO_GL', 'osmesa')
    try:
        overrides = _overrides(args.set)
        if args.workers:
            overrides['data.workers'] = args.workers
        config = load_config(args.config, overrides)
        torch.set_num_threads(args.threads or config.threads)
        seed_everything(config.seed)
        run_dir = Path(args.out or Path('runs') / config.name)
        extra = [Path(d) for d in args.data]
        if args.bag:
            bag_dir = run_dir / 'bags'
            bag_config = BagConfig(image_topic=args.image_topic, imu_topic=args.imu_topic,
                                   command_topic=args.command_topic,
                                   image_hw=tuple(config.policy.get('image_hw', (66, 200))),
                                   max_angular_z=args.max_angular_z)
            if not (bag_dir / 'manifest.json').is_file():
                for bag in args.bag:
                    count = import_bag(bag, bag_dir, bag_config)
                    print(f'{bag}: {count} episodes imported')
            extra.append(bag_dir)
        final = train_run(config, run_dir, extra=extra, progress=not args.no_progress,
                          device=args.device, record_only=args.record_only)
        if args.record_only:
            print(f'demonstrations: {final}')
            return 0
    except (ConfigError, DatasetError, ValueError) as exc:
        print(f'lnn-control train: {exc}', file=sys.stderr)
        return 2
    if args.ship:
        Path(args.ship).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(final, args.ship)
        print(f'shipped {final} -> {args.ship}')
    print(f'policy: {final}')
    return 0
