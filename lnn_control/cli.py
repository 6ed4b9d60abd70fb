"""``lnn-control``: one entry point; each sub-command lives in the module that owns it.

A sub-command module exposes ``add_arguments(parser)`` and ``run(args) -> int``. Modules are
imported only when their command runs, so ``lnn-control --help`` stays fast and a missing optional
dependency only affects the command that needs it.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
import importlib
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    'demo': (
        'lnn_control.models.demo',
        'run the 19-neuron NCP-CfC on a toy signal and print its wiring'),
    'sim': (
        'lnn_control.sim.cli',
        'simulator tools: gallery, drive the expert, list scenarios'),
    'launch': (
        'lnn_control.nodes.launcher',
        'start a launch set (drive, fly, sim_drive, sim_fly) in-process'),
    'hil': (
        'lnn_control.nodes.hil',
        'closed-loop hardware-in-the-loop run over real ROS 2 topics'),
    'train': (
        'lnn_control.train.cli',
        'record demonstrations and train policies (imitation, DAgger)'),
    'evaluate': (
        'lnn_control.train.evaluate_cli',
        'evaluate policies over scenario x severity grids'),
    'export': (
        'lnn_control.export.cli',
        'export a policy to ONNX or dependency-free C'),
}


def _usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = ['usage: lnn-control COMMAND [options]', '', 'commands:']
    lines += [f'  {name:<{width}}  {helptext}' for name, (_, helptext) in COMMANDS.items()]
    lines += ['', "run 'lnn-control COMMAND --help' for a command's options"]
    return '\n'.join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"lnn-control: unknown command '{name}'\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, helptext = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f'lnn-control {name}', description=helptext)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    return int(module.run(args) or 0)


if __name__ == '__main__':
    sys.exit(main())
