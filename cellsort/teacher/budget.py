"""How long a teacher config will train here, and the named presets to choose from.

Method: build the configured network, run one warm-up and then ``steps`` real training steps
(forward, backward, AdamW) on a batch of the configured size and input side, and scale the
measured time per step by the steps of the whole schedule (epochs x batches per epoch, plus
the soft-target pass at about a third of a step per batch and view). The figure is measured on
this machine for this config, so it is as good as the first batches are typical.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from cellsort.teacher.nets import build_teacher
from cellsort.teacher.train import TeacherConfig, device

#: Named teacher configs: the published, GPU-sized ResNet-18 at 120 px, and one that trains
#: in about a minute on a laptop CPU (the demo's).
TEACHER_PRESETS: dict[str, TeacherConfig] = {
    "paper": TeacherConfig(),
    "cpu": TeacherConfig(arch="resnet10", width=12, input_size=48, epochs=6, views=3, patience=6),
}

#: A CPU run expected to take longer than this gets a warning naming the ``cpu`` preset.
WARN_SECONDS = 15 * 60


def expected_seconds(cfg: TeacherConfig, n_train: int, n_classes: int, image_side: int,
                     steps: int = 2) -> float:
    """Expected wall time of :func:`~cellsort.teacher.train.train_teacher` (see the module doc)."""
    dev = device()
    torch.manual_seed(0)
    model = build_teacher(cfg.arch, n_classes, cfg.width).to(dev).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    side = cfg.input_size or image_side
    batch = min(cfg.batch_size, max(1, n_train))
    x = torch.randn(batch, 1, side, side, device=dev)
    y = torch.randint(0, n_classes, (batch,), device=dev)
    per_step = 0.0
    for i in range(steps + 1):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if i:  # the first step is a warm-up
            per_step += (time.perf_counter() - t0) / steps
    batches = -(-n_train // batch)
    return per_step * batches * (cfg.epochs + cfg.views / 3)


def cpu_warning(cfg: TeacherConfig, seconds: float) -> str | None:
    """The warning for a CPU run longer than :data:`WARN_SECONDS`, else None."""
    if device().type != "cpu" or seconds <= WARN_SECONDS:
        return None
    from cellsort.progress import duration_text

    return (f"warning: this teacher ({cfg.arch}, width {cfg.width}, {cfg.input_size or 'native'} px, "
            f"{cfg.epochs} epochs) is GPU-sized and will take about {duration_text(seconds)} on this "
            f"CPU (measured from timed training steps); `--preset cpu` trains "
            f"{TEACHER_PRESETS['cpu'].arch} width {TEACHER_PRESETS['cpu'].width} at "
            f"{TEACHER_PRESETS['cpu'].input_size} px instead")
