"""Per-tick time of a shipped policy exported to C99 against eager torch, side by side in one run.

Run: ``.venv/bin/python bench/bench_c_export.py [--quick]`` (needs ``cc``). For each shipped
policy (``config/policies/{rover,quad}_ncp_cfc.pt``) it exports ``<policy>.c`` with ``export_c``,
takes one real frame and IMU sample from the expert driving the policy's own env, and times the
whole tick in interleaved rounds (each round times every candidate once, so load from other
processes hits all of them alike):

1. eager ``Policy.step`` at batch 1 under ``torch.inference_mode()``, one torch thread;
2. the C step built with ``cc -O2``, called per tick from Python through ctypes;
3. the same C called N times in a loop by a generated C harness (``clock_gettime`` around each
   call), built with ``-O2`` (portable), and with ``-O3 -march=native`` (this CPU only).

Each candidate's per-tick time is its p50 within a round; we print the median over rounds, the
median over rounds of the per-round ratio ``torch / candidate``, and the flash and RAM footprint.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
import ctypes
import os
from pathlib import Path
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault('MUJOCO_GL', 'osmesa')
os.environ.setdefault('PYOPENGL_PLATFORM', 'osmesa')

from lnn_control.control.preprocess import resize  # noqa: E402
from lnn_control.export.c_policy import CExport, export_c  # noqa: E402
from lnn_control.models.checkpoint import load_checkpoint  # noqa: E402
from lnn_control.models.policy import Policy  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VEHICLES = ('rover', 'quad')
C_FLAGS = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic']
#: The timing harness: ``harness N frame.bin`` prints the p50 of N ticks in microseconds.
HARNESS = """\
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "{name}.h"

static int by_value(const void *a, const void *b)
{{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}}

int main(int argc, char **argv)
{{
    static uint8_t image[{upper}_IMAGE_H * {upper}_IMAGE_W * 3];
    float imu[{inputs}] = {{{imu}}}, state[{upper}_STATE_SIZE], action[{upper}_ACTION_DIM];
    const int n = argc > 2 ? atoi(argv[1]) : 0, warm = n / 10 + 1;
    double *ticks = malloc((size_t)(n > 0 ? n : 1) * sizeof *ticks);
    FILE *frame = argc > 2 ? fopen(argv[2], "rb") : NULL;
    int i;
    if (n < 1 || ticks == NULL || frame == NULL || fread(image, 1, sizeof image, frame)
            != sizeof image) {{
        fprintf(stderr, "usage: %s TICKS FRAME.bin (raw HWC uint8 frame)\\n", argv[0]);
        return 2;
    }}
    fclose(frame);
    {name}_reset(state);
    for (i = 0; i < warm + n; ++i) {{
        struct timespec start, stop;
        clock_gettime(CLOCK_MONOTONIC, &start);
        {name}_step(image, imu, {elapsed}f, state, action);
        clock_gettime(CLOCK_MONOTONIC, &stop);
        if (i >= warm) {{
            ticks[i - warm] = (double)(stop.tv_sec - start.tv_sec) * 1e6
                + (double)(stop.tv_nsec - start.tv_nsec) * 1e-3;
        }}
    }}
    qsort(ticks, (size_t)n, sizeof *ticks, by_value);
    printf("%.3f %g\\n", ticks[n / 2], (double)action[0]);
    free(ticks);
    return 0;
}}
"""


def real_inputs(policy: Policy, metadata: dict) -> tuple[np.ndarray, np.ndarray, float]:
    """One frame (resized to the policy), IMU vector and elapsed time from the expert's drive."""
    from lnn_control.train.experts import make_expert
    from lnn_control.train.rollout import make_env, RolloutOptions, run_episode

    env = make_env(metadata['env_id'], dict(metadata['env_kwargs']))
    try:
        rng = np.random.default_rng(0)
        episode = run_episode(env, make_expert(policy.config.vehicle, env, rng), seed=0,
                              rng=rng, options=RolloutOptions(
                                  max_steps=20, record=True,
                                  state_inputs=policy.config.state_inputs)).episode
    finally:
        env.close()
    frame = np.ascontiguousarray(resize(episode.images[-1], tuple(policy.config.image_hw)))
    return frame, episode.imu[-1].astype(np.float32), float(episode.elapsed[-1])


def build(export: CExport, policy: Policy, imu: np.ndarray, elapsed: float,
          out: Path) -> dict[str, Path]:
    """Compile the ctypes library and the two harness binaries; return their paths."""
    name, cc = export.source.stem, shutil.which('cc')
    assert cc is not None
    main_c = out / 'harness.c'
    main_c.write_text(HARNESS.format(
        name=name, upper=name.upper(), inputs=max(policy.config.input_dim, 1),
        imu=', '.join(f'{v!r}f' for v in imu.tolist()) or '0.0f', elapsed=repr(elapsed)))
    paths = {'library': out / f'lib{name}.so', 'loop -O2': out / 'harness_o2',
             'loop -O3 -march=native': out / 'harness_native'}
    commands = [
        [cc, *C_FLAGS, '-O2', '-shared', '-fPIC', str(export.source), '-o',
         str(paths['library']), '-lm'],
        [cc, *C_FLAGS, '-O2', f'-I{out}', str(main_c), str(export.source), '-o',
         str(paths['loop -O2']), '-lm'],
        [cc, *C_FLAGS, '-O3', '-march=native', f'-I{out}', str(main_c), str(export.source),
         '-o', str(paths['loop -O3 -march=native']), '-lm']]
    for command in commands:
        subprocess.run(command, check=True)
    return paths


def per_call(fn: Callable[[], object], calls: int) -> float:
    """p50 seconds of ``calls`` calls of ``fn``, each timed on its own."""
    ticks = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        ticks.append(time.perf_counter() - start)
    return statistics.median(ticks)


def bench_policy(vehicle: str, rounds: int, calls: int, out: Path) -> None:
    """Time one shipped policy's tick in every candidate and print the table."""
    path = ROOT / 'config' / 'policies' / f'{vehicle}_ncp_cfc.pt'
    policy, metadata = load_checkpoint(path)
    export = export_c(policy, out, name=f'{vehicle}_policy', origin=path.name)
    frame, imu, elapsed = real_inputs(policy, metadata)
    paths = build(export, policy, imu, elapsed, out)
    frame.tofile(out / 'frame.bin')

    lib = ctypes.CDLL(str(paths['library']))
    c_step = getattr(lib, f'{vehicle}_policy_step')
    c_step.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_float, ctypes.c_void_p,
                       ctypes.c_void_p]
    state = np.zeros(policy.state_size, np.float32)
    action = np.zeros(policy.config.action_dim, np.float32)
    c_args = (frame.ctypes.data, imu.ctypes.data, ctypes.c_float(elapsed), state.ctypes.data,
              action.ctypes.data)
    image_t, imu_t = torch.from_numpy(frame).unsqueeze(0), torch.from_numpy(imu).unsqueeze(0)
    elapsed_t, hx = torch.tensor([elapsed]), policy.initial_state(1)

    def torch_step() -> None:
        nonlocal hx
        _, hx = policy.step(image_t, imu_t, elapsed_t, hx)

    def loop(binary: Path) -> float:
        done = subprocess.run([str(binary), str(calls), str(out / 'frame.bin')], check=True,
                              capture_output=True, text=True)
        return float(done.stdout.split()[0]) * 1e-6

    candidates: dict[str, Callable[[], float]] = {
        'torch eager Policy.step': lambda: per_call(torch_step, calls),
        'C -O2 via ctypes': lambda: per_call(lambda: c_step(*c_args), calls),
        'C -O2 loop': lambda: loop(paths['loop -O2']),
        'C -O3 -march=native loop': lambda: loop(paths['loop -O3 -march=native']),
    }
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    with torch.inference_mode():
        for candidate in candidates.values():  # warm-up: caches, allocator, page faults
            candidate()
        for _ in range(rounds):
            for name, candidate in candidates.items():
                samples[name].append(candidate())

    height, width = policy.config.image_hw
    workspace = export.ram_bytes - 4 * policy.state_size
    print(f'\n{path.name}: image {height}x{width}, core {policy.config.core}, '
          f'{export.parameters} parameters')
    print(f'   flash {export.flash_bytes} B (const data), RAM {export.ram_bytes} B '
          f'(state {4 * policy.state_size} B + workspace {workspace} B)')
    print(f'   {"candidate":<26} {"p50 per tick":>13} {"torch / candidate":>18}')
    reference = samples['torch eager Policy.step']
    for name, values in samples.items():
        ratio = statistics.median(t / v for t, v in zip(reference, values, strict=True))
        print(f'   {name:<26} {statistics.median(values) * 1e6:10.1f} us {ratio:17.2f}x')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true', help='fewer rounds (smoke run)')
    args = parser.parse_args(argv)
    if shutil.which('cc') is None:
        print('bench_c_export: no C compiler (`cc`) on PATH', file=sys.stderr)
        return 1
    torch.set_num_threads(1)
    cc_version = subprocess.run(['cc', '--version'], capture_output=True, text=True).stdout
    print(f'{time.strftime("%Y-%m-%d %H:%M %Z")}, load average '
          f'{", ".join(f"{v:.2f}" for v in os.getloadavg())}, {os.cpu_count()} CPUs')
    print(f'torch {torch.__version__}, 1 thread; {cc_version.splitlines()[0]}')
    rounds, calls = (3, 30) if args.quick else (9, 150)
    print(f'{rounds} interleaved rounds of {calls} ticks per candidate; p50 within a round, '
          'median over rounds')
    with tempfile.TemporaryDirectory(prefix='bench_c_export_') as tmp:
        for vehicle in VEHICLES:
            out = Path(tmp) / vehicle
            out.mkdir()
            bench_policy(vehicle, rounds, calls, out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
