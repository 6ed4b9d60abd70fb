"""Headless MuJoCo rendering: one GL context per env, several cameras, run-time look changes.

``MUJOCO_GL`` defaults to ``osmesa`` (software, works on any Linux machine with libosmesa6); it
must be set before MuJoCo is first imported, which importing this module does. One
:class:`SceneRenderer` serves every camera of an env (a front camera and a chase view of other
sizes) from one off-screen buffer, so an env never holds two GL contexts.

It also applies the look-related knobs that visual shifts set in ``SimWorld.knobs`` (see
:func:`apply_render_knobs`: the sky tint, by re-uploading the skybox texture) and can return the
depth of each frame for image-space fog. MuJoCo's own fog is not used: in this build changing
it at run time has no visible effect.
"""
from __future__ import annotations

from collections.abc import Mapping
import os
from typing import Any

os.environ.setdefault('MUJOCO_GL', 'osmesa')
if os.environ['MUJOCO_GL'].lower() == 'osmesa':
    os.environ.setdefault('PYOPENGL_PLATFORM', 'osmesa')

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

_GL_HELP = (
    'no OpenGL backend for headless rendering (MUJOCO_GL={backend!r}): {error}. Fix: install '
    'OSMesa (Debian/Ubuntu: sudo apt-get install libosmesa6) and set MUJOCO_GL=osmesa before '
    'MuJoCo is first imported (e.g. export MUJOCO_GL=osmesa), or use MUJOCO_GL=egl on a machine '
    'with a GPU driver.')


class RenderError(RuntimeError):
    """Rendering cannot start; the message says how to fix the machine."""


def _make_gl_context(width: int, height: int):
    backend = os.environ.get('MUJOCO_GL', '')
    try:
        from mujoco.rendering.classic.gl_context import GLContext
    except Exception as exc:  # noqa: BLE001 - any import failure means no usable backend
        raise RenderError(_GL_HELP.format(backend=backend, error=exc)) from exc
    try:
        context = GLContext(width, height)
        context.make_current()
    except Exception as exc:  # noqa: BLE001 - backends raise several unrelated types
        raise RenderError(_GL_HELP.format(backend=backend, error=exc)) from exc
    return context


class SceneRenderer:
    """Off-screen renderer for one model; renders any camera at any size up to the buffer.

    Args:
        model: the compiled ``MjModel``; its ``vis.global_.offwidth/offheight`` bound the sizes.
        max_geom: scene capacity.
    """

    def __init__(self, model: mujoco.MjModel, max_geom: int = 2000) -> None:
        self.model = model
        self._width = int(model.vis.global_.offwidth)
        self._height = int(model.vis.global_.offheight)
        self._gl = _make_gl_context(self._width, self._height)
        try:
            self._context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_100.value)
        except mujoco.FatalError as exc:  # e.g. MuJoCo was imported before MUJOCO_GL was set
            self._gl.free()
            raise RenderError(_GL_HELP.format(backend=os.environ.get('MUJOCO_GL', ''),
                                              error=exc)) from exc
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self._context)
        self._scene = mujoco.MjvScene(model, maxgeom=max_geom)
        self._option = mujoco.MjvOption()
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._context.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR
        extent = model.stat.extent
        self._near = np.float32(model.vis.map.znear * extent)
        self._far = np.float32(model.vis.map.zfar * extent)
        sky = np.flatnonzero(model.tex_type == mujoco.mjtTexture.mjTEXTURE_SKYBOX)
        self._sky = int(sky[0]) if len(sky) else None
        self._sky_data = self._texture(self._sky).copy() if self._sky is not None else None
        self._sky_tint: tuple[float, float, float] | None = None

    def _texture(self, tex_id: int) -> np.ndarray:
        m = self.model
        size = m.tex_height[tex_id] * m.tex_width[tex_id] * m.tex_nchannel[tex_id]
        start = m.tex_adr[tex_id]
        return m.tex_data[start:start + size]

    def render(self, data: mujoco.MjData, camera: int, height: int, width: int,
               depth: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Render camera id ``camera`` as an (height, width, 3) uint8 image, row 0 at the top.

        With ``depth=True`` also return the (height, width) float32 distance along the optical
        axis, metres (for image-space fog), read from the same render.
        """
        if height > self._height or width > self._width:
            raise ValueError(f'SceneRenderer: expected a size within {self._height}x{self._width}'
                             f' (model offheight x offwidth), got {height}x{width}')
        self._gl.make_current()
        self._camera.fixedcamid = camera
        mujoco.mjv_updateScene(self.model, data, self._option, None, self._camera,
                               mujoco.mjtCatBit.mjCAT_ALL.value, self._scene)
        rect = mujoco.MjrRect(0, 0, width, height)
        mujoco.mjr_render(rect, self._scene, self._context)
        out = np.empty((height, width, 3), np.uint8)
        if not depth:
            mujoco.mjr_readPixels(out, None, rect, self._context)
            return out[::-1]
        z = np.empty((height, width), np.float32)
        mujoco.mjr_readPixels(out, z, rect, self._context)
        return out[::-1], self._metric_depth(z)[::-1]

    def _metric_depth(self, z: np.ndarray) -> np.ndarray:
        """Undo MuJoCo's reversed-Z perspective projection (as ``mujoco.Renderer`` does)."""
        near, far = self._near, self._far
        c = np.float32(-0.5) * (-(far + near) / (far - near)) - np.float32(0.5)
        d = np.float32(-0.5) * (-(np.float32(2) * far * near) / (far - near))
        return (d / (z.astype(np.float64) + c)).astype(np.float32)

    def upload_texture(self, tex_id: int, rgb: np.ndarray) -> None:
        """Replace texture ``tex_id`` (same size, RGB uint8) in the model and on the GPU."""
        view = self._texture(tex_id)
        if rgb.size != view.size:
            raise ValueError(f'SceneRenderer: texture {tex_id} expects {view.size} values, '
                             f'got {rgb.size}')
        view[:] = rgb.reshape(-1)
        self._gl.make_current()
        mujoco.mjr_uploadTexture(self.model, self._context, tex_id)

    def set_sky_tint(self, tint: tuple[float, float, float] | None) -> None:
        """Multiply the skybox colours by ``tint`` (per channel); ``None`` restores them."""
        if self._sky is None or tint == self._sky_tint:
            return
        self._sky_tint = tint
        base = self._sky_data.reshape(-1, 3).astype(np.float32)
        if tint is not None:
            base = np.clip(base * np.asarray(tint, np.float32), 0, 255)
        self.upload_texture(self._sky, base.astype(np.uint8))

    def close(self) -> None:
        """Free the GL resources; the renderer cannot be used afterwards."""
        if self._context is not None:
            self._gl.make_current()
            self._context.free()
            self._context = None
        if self._gl is not None:
            self._gl.free()
            self._gl = None


def apply_render_knobs(renderer: SceneRenderer, knobs: Mapping[str, Any]) -> None:
    """Apply the render-side knobs of ``SimWorld.knobs`` after the shifts' ``apply_world``.

    Knob read: ``sky_tint`` = ``(r, g, b)`` multipliers of the skybox colours, or absent/None
    for the clear sky.
    """
    renderer.set_sky_tint(knobs.get('sky_tint'))
