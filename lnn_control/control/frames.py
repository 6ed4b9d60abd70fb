"""Frame conventions: ENU/FLU (ROS, REP 103) <-> NED/FRD (PX4), quaternions and thrust.

ROS and MAVROS use a world frame ENU (x east, y north, z up) and a body frame FLU (x forward,
y left, z up). PX4 uses NED (x north, y east, z down) and FRD (x forward, y right, z down).
Quaternions here are ``[w, x, y, z]`` (PX4's ``q_d`` order and ``geometry_msgs/Quaternion``'s
field order), Hamilton convention, rotating body vectors into the world frame.

For the same physical attitude: roll is unchanged, pitch changes sign, and yaw becomes
``pi/2 - yaw``; a yaw rate changes sign. PX4's normalized thrust is a body FRD vector whose z
component is negative for upward thrust; MAVROS' thrust is a scalar 0..1.
"""
from __future__ import annotations

import math

import numpy as np

#: ENU -> NED as a rotation: swap x and y, negate z.
_ENU_NED = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
#: FLU -> FRD: negate y and z (a half turn about x).
_FLU_FRD = np.diag([1.0, -1.0, -1.0])
#: The same two changes of frame as quaternions [w, x, y, z].
_Q_NED_ENU = np.array([0.0, math.sqrt(0.5), math.sqrt(0.5), 0.0])
_Q_FLU_FRD = np.array([0.0, 1.0, 0.0, 0.0])


def enu_to_ned(v: np.ndarray) -> np.ndarray:
    """Convert a world vector (or points, shape (..., 3)) from ENU to NED.

    The map is its own inverse.
    """
    return np.asarray(v, dtype=float) @ _ENU_NED.T


ned_to_enu = enu_to_ned


def flu_to_frd(v: np.ndarray) -> np.ndarray:
    """Convert a body vector (shape (..., 3)) from FLU to FRD; the map is its own inverse."""
    return np.asarray(v, dtype=float) @ _FLU_FRD.T


frd_to_flu = flu_to_frd


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` of two [w, x, y, z] quaternions."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ])


def quat_from_euler(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """[w, x, y, z] from intrinsic Z-Y-X (yaw, then pitch, then roll) Euler angles in radians."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return np.array([
        cr * cp * cy + sr * sp * sy,
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
    ])


def euler_from_quat(q: np.ndarray) -> tuple[float, float, float]:
    """(roll, pitch, yaw) in radians, Z-Y-X, from a [w, x, y, z] quaternion (need not be unit)."""
    w, x, y, z = np.asarray(q, dtype=float) / np.linalg.norm(q)
    roll = math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x))))
    yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return roll, pitch, yaw


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate the 3-vector ``v`` by the unit quaternion ``q``."""
    qv = np.concatenate([[0.0], np.asarray(v, dtype=float)])
    conj = np.array([q[0], -q[1], -q[2], -q[3]])
    return quat_multiply(quat_multiply(q, qv), conj)[1:]


def vertical_velocity(q: np.ndarray, v_body: np.ndarray) -> float:
    """Return the world-up component of a body-frame velocity, for attitude ``q`` [w, x, y, z].

    ``q`` rotates body to world; ``nav_msgs/Odometry`` gives its twist in the body frame.
    """
    return float(quat_rotate(np.asarray(q, dtype=float) / np.linalg.norm(q), v_body)[2])


def quat_enu_flu_to_ned_frd(q: np.ndarray) -> np.ndarray:
    """Convert an attitude (FLU body in ENU world) to PX4's convention (FRD body in NED world).

    ``q_ned_frd = q_ned_enu * q_enu_flu * q_flu_frd``; returned with w >= 0.
    """
    out = quat_multiply(quat_multiply(_Q_NED_ENU, np.asarray(q, dtype=float)), _Q_FLU_FRD)
    return out if out[0] >= 0 else -out


def quat_ned_frd_to_enu_flu(q: np.ndarray) -> np.ndarray:
    """Inverse of :func:`quat_enu_flu_to_ned_frd` (both changes of frame are involutions)."""
    out = quat_multiply(quat_multiply(_Q_NED_ENU, np.asarray(q, dtype=float)), _Q_FLU_FRD)
    return out if out[0] >= 0 else -out


def euler_flu_to_frd(roll: float, pitch: float, yaw_enu: float) -> tuple[float, float, float]:
    """Euler angles of one attitude: ENU/FLU -> NED/FRD (roll kept, pitch negated, pi/2 - yaw)."""
    yaw = math.pi / 2 - yaw_enu
    return roll, -pitch, math.atan2(math.sin(yaw), math.cos(yaw))


def px4_thrust_body(thrust: float) -> list[float]:
    """Convert a normalized collective thrust 0..1 to PX4's body FRD thrust vector.

    The vector points up, so its z is negative.
    """
    return [0.0, 0.0, -float(thrust)]
