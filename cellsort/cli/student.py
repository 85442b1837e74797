"""``cellsort student``: list and import students."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from cellsort.data.preprocess import Preprocessing
from cellsort.student import StudentArtifact, import_float_student, list_students, save_student

app = typer.Typer(help="Quantized QKeras students.", no_args_is_help=True)
console = Console()


@app.command("list")
def list_cmd():
    """Registered student architectures."""
    for name in list_students():
        console.print(name)


@app.command("import")
def import_cmd(file: Path = typer.Argument(..., help="Float model: Keras .h5/.keras or PyTorch .pt state_dict."),
               out: Path = typer.Option(..., help="Student artifact folder to write."),
               name: str = typer.Option("paper", help="Student architecture of the float model."),
               classes: str = typer.Option("B,T4", help="Class names, in output order."),
               input_size: int = typer.Option(48, help="Input side in pixels."),
               mean: float = typer.Option(Preprocessing().mean, help="Normalisation mean."),
               std: float = typer.Option(Preprocessing().std, help="Normalisation std."),
               data: Optional[Path] = typer.Option(None, help="Dataset to score (and fine-tune) on."),
               finetune_epochs: int = typer.Option(0, min=0, help="QAT fine-tuning epochs on --data (labels).")):
    """Quantize a float student (post-training, then optional QAT fine-tuning) into an artifact."""
    names = tuple(c.strip() for c in classes.split(","))
    size = (input_size, input_size)
    model = import_float_student(file, name, len(names), size)
    prep = Preprocessing(input_size=size, mean=mean, std=std)
    info = {"imported_from": str(file), "quantization": "post-training"}
    if data is None:
        if finetune_epochs:
            raise typer.BadParameter("--finetune-epochs needs --data")
        save_student(out, StudentArtifact(model, prep, names, 0.0, info))
        console.print(f"wrote {out}")
        return
    from cellsort.data.load import open_dataset
    from cellsort.distill.train import DistillConfig, distill, evaluate_student

    split = open_dataset(data, classes)
    info["post_training_test"] = evaluate_student(model, prep, split.test)
    console.print(f"post-training quantized accuracy (test): {info['post_training_test']['accuracy']:.3f}")
    if finetune_epochs:
        info["quantization"] = "post-training, then quantization-aware fine-tuning"
        cfg = DistillConfig(student=name, input_size=size, method="labels", epochs=finetune_epochs,
                            lr=5e-4)
        summary = distill(split, cfg, out, preprocessing=prep, initial_weights=model.get_weights(),
                          extra_info=info)
        console.print(f"after QAT fine-tuning (test): {summary['test']['accuracy']:.3f}")
    else:
        save_student(out, StudentArtifact(model, prep, names, 0.0, info))
    console.print(f"wrote {out}")
