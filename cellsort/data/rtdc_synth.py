"""Synthetic RT-DC recordings written with dclab: the flow video's cells as events.

The synthetic flow video (:func:`cellsort.data.flow.synthetic_flow`) is run and every cell
becomes one event in the frame where its centre first passes the middle of the field of view,
the way an RT-DC instrument triggers: the event image is that frame, ``pos_x``/``pos_y`` its
true centre in µm, ``image_bg`` the median of the video (the instrument's rolling background),
``frame`` and ``time`` the frame number and time. Used by the tests, the benchmarks and the
demo as an offline stand-in for a real recording.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cellsort.atomic import atomic_path


def write_synthetic_recording(path: str | Path, n_frames: int = 400, seed: int = 0,
                              classes: tuple[str, ...] = ("B", "T4"), pixel_size: float = 0.34,
                              frame_rate: float = 2000.0, background: bool = True,
                              compress: bool = True) -> np.ndarray:
    """Write an ``.rtdc`` recording of the cells of a synthetic flow video.

    Parameters
    ----------
    path : path-like
    n_frames : int
        Length of the simulated video (about one event per 14 frames at the default rate).
    classes : tuple of str
        Class names of the cells (their order gives the returned labels).
    pixel_size : float
        µm per pixel stored as ``imaging:pixel size``.
    background : bool
        Store ``image_bg``.
    compress : bool
        Zstandard compression (dclab's default) or none.

    Returns
    -------
    ndarray of int
        True class index of every event, in event order.
    """
    import dclab

    from cellsort.data.flow import synthetic_flow

    video = list(synthetic_flow(n_frames, seed, classes=classes))
    frames = np.stack([f for f, _ in video])
    h, w = frames.shape[1:]
    bg = np.rint(np.median(frames, axis=0)).astype(np.uint8)
    seen, images, pos, frame_no, labels = set(), [], [], [], []
    for i, (frame, cells) in enumerate(video):
        for c in cells:
            if c.cell_id not in seen and c.col >= w / 2:
                seen.add(c.cell_id)
                images.append(frame)
                pos.append((c.row, c.col))
                frame_no.append(i)
                labels.append(c.label)
    n = len(images)
    meta = {"experiment": {"sample": f"cellsort synthetic flow seed {seed}", "run index": 1,
                           "date": "2026-01-01", "time": "00:00:00", "event count": n},
            "imaging": {"pixel size": pixel_size, "frame rate": frame_rate,
                        "roi size x": w, "roi size y": h},
            "setup": {"channel width": 20.0, "chip region": "channel", "flow rate": 0.04,
                      "medium": "CellCarrier"}}
    kwargs = {} if compress else {"compression_kwargs": {"compression": None}}
    with atomic_path(path, suffix=".rtdc") as tmp:
        with dclab.RTDCWriter(tmp, mode="reset", **kwargs) as writer:
            writer.store_metadata(meta)
            if n:
                p = np.asarray(pos, np.float64)
                writer.store_feature("image", np.stack(images))
                if background:
                    writer.store_feature("image_bg", np.repeat(bg[None], n, axis=0))
                writer.store_feature("pos_x", p[:, 1] * pixel_size)
                writer.store_feature("pos_y", p[:, 0] * pixel_size)
                writer.store_feature("frame", np.asarray(frame_no, np.float64))
                writer.store_feature("time", np.asarray(frame_no, np.float64) / frame_rate)
    return np.asarray(labels, int)
