"""Tables and plots from evaluation results.

Markdown tables, success vs severity, neuron activity and saliency of the conv head.

Plots need matplotlib (``pip install lnn_control[viz]``); it is imported only here, lazily.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError('plots need matplotlib: pip install matplotlib') from exc
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    return plt


def _cell(summary: Mapping[str, Any], vehicle: str) -> str:
    success = 100 * summary['success_rate']
    if vehicle == 'rover':
        return f'{success:.0f} ({100 * summary.get("mean_completion", 0):.0f})'
    return f'{success:.0f}'


def markdown_table(results: Mapping[str, Any], seen: Mapping[str, Sequence[str]] | None = None,
                   conditions: Sequence[str] | None = None) -> str:
    """Conditions as rows, models as columns. Rover cells: ``success% (mean completion%)``.

    A ``*`` marks a condition whose scenario the model saw in training (``seen``).
    """
    vehicle = results['config']['vehicle']
    models = list(results['models'])
    rows = list(conditions or results['conditions'])
    head = '| condition | ' + ' | '.join(models) + ' |'
    lines = [head, '|' + '---|' * (len(models) + 1)]
    for condition in rows:
        name = condition.partition(':')[0]
        cells = []
        for model in models:
            summary = results['models'][model].get(condition)
            if summary is None:
                cells.append('-')
                continue
            mark = '*' if seen and name in seen.get(model, ()) and name != 'clear' else ''
            cells.append(_cell(summary, vehicle) + mark)
        lines.append(f'| {condition} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_success_vs_severity(results: Mapping[str, Any], path: str | Path) -> None:
    """One panel per scenario: success rate at clear (severity 0) and each severity, per model."""
    plt = _pyplot()
    config = results['config']
    scenarios, severities = config['scenarios'], config['severities']
    cols = min(4, max(1, len(scenarios)))
    rows = max(1, -(-len(scenarios) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False,
                             sharey=True)
    xs = np.array([0, *severities], dtype=float)
    models = list(results['models'])
    # One colour per core, dashed for the randomized regime; a small x offset per model keeps
    # identical curves from hiding each other.
    cores = sorted({m.removesuffix('_rand') for m in models})
    colours = plt.get_cmap('tab10')
    for ax, scenario in zip(axes.flat, scenarios, strict=False):
        for i, model in enumerate(models):
            per = results['models'][model]
            ys = [per['clear']['success_rate']]
            ys += [per[f'{scenario}:{s}']['success_rate'] if f'{scenario}:{s}' in per
                   else np.nan for s in severities]
            offset = 0.25 * (i / max(len(models) - 1, 1) - 0.5)
            ax.plot(xs + offset, ys, marker='o', ms=3, lw=1.2, label=model,
                    color=colours(cores.index(model.removesuffix('_rand')) % 10),
                    ls='--' if model.endswith('_rand') else '-')
        ax.set_title(scenario)
        ax.set_xticks(xs)
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(scenarios):]:
        ax.axis('off')
    axes[0][0].set_ylabel('success rate')
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc='lower center', ncol=min(len(labels), 7), fontsize=8)
    fig.supxlabel('severity (0 = clear)', y=0.1)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_activity(traces: np.ndarray, path: str | Path, dt: float, *,
                  layers: Sequence[tuple[str, range]] = (), actions: np.ndarray | None = None,
                  title: str = '') -> None:
    """Every neuron's state over one episode, grouped by layer (inter, command, motor).

    Shape:
        traces (T, N); actions (T, A) or None.
    """
    plt = _pyplot()
    groups = list(layers) or [('neurons', range(traces.shape[1]))]
    fig, axes = plt.subplots(len(groups) + (actions is not None), 1, sharex=True,
                             figsize=(9, 1.6 * (len(groups) + 1)), squeeze=False)
    t = np.arange(len(traces)) * dt
    for ax, (name, index) in zip(axes[:, 0], groups, strict=False):
        ax.plot(t, traces[:, list(index)], lw=0.8)
        ax.set_ylabel(f'{name}\n({len(index)})')
        ax.grid(alpha=0.3)
    if actions is not None:
        axes[-1, 0].plot(t[:len(actions)], actions, color='k', lw=1)
        axes[-1, 0].set_ylabel('action')
    axes[-1, 0].set_xlabel('time (s)')
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def saliency(policy: Any, images: np.ndarray, imu: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
    """|d action / d pixel| of the last frame of a short clip, summed over actions and channels.

    The clip warms the recurrent state up, so the map shows what the driving policy attends to
    mid-drive, not at a cold start. Gradients flow through the normalization inside the head.

    Shape:
        images (T, H, W, 3) uint8, imu (T, I), elapsed (T,) -> (H, W) float, max 1.
    """
    x = torch.from_numpy(images).float().requires_grad_(True)
    head = policy.head
    feats = []
    for k in range(len(images)):
        frame = x[k:k + 1].permute(0, 3, 1, 2)
        frame = frame * head.pixel_scale + head.pixel_shift
        u = (torch.from_numpy(imu[k:k + 1]) - head.imu_mean) / head.imu_std
        feats.append(head.fc(torch.cat([head.convs(frame), u], 1)))
    u = torch.stack(feats, 1)
    hx = policy.initial_state(1)
    y, _ = policy.core(u, torch.from_numpy(elapsed)[None], hx)
    policy.squash(y)[0, -1].abs().sum().backward()
    grad = x.grad[-1].abs().sum(-1).numpy()
    return grad / max(float(grad.max()), 1e-12)


def plot_saliency(pairs: Sequence[tuple[str, np.ndarray, np.ndarray]], path: str | Path) -> None:
    """Rows of (label, frame, saliency map): the frame, the map, and the map over the frame."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(pairs), 3, figsize=(10, 1.9 * len(pairs)), squeeze=False)
    for row, (label, frame, smap) in zip(axes, pairs, strict=True):
        row[0].imshow(frame)
        row[0].set_ylabel(label, fontsize=8)
        row[1].imshow(smap, cmap='inferno')
        row[2].imshow(frame)
        row[2].imshow(smap, cmap='inferno', alpha=0.6)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0][0].set_title('input')
    axes[0][1].set_title('saliency |da/dx|')
    axes[0][2].set_title('overlay')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
