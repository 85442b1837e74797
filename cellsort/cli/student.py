"""``cellsort student``: list and import students."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console, make_table
from cellsort.data.preprocess import Preprocessing
from cellsort.student import list_students

app = typer.Typer(help="Quantized QKeras students.", no_args_is_help=True)


@app.command("list")
def list_cmd():
    """Registered student architectures."""
    for name in list_students():
        console.print(name)


def _normalisation(text: str) -> tuple[float, float]:
    """``paper`` (LymphoMNIST mean/std), ``unit`` (x/255) or ``MEAN,STD``."""
    if text == "paper":
        return Preprocessing().mean, Preprocessing().std
    if text == "unit":
        return 0.0, 1.0
    try:
        mean, std = (float(v) for v in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected paper, unit or MEAN,STD") from None
    return mean, std


@app.command("import")
def import_cmd(file: Path = typer.Argument(..., help="Float model: Keras 2/3 .h5/.keras, or a "
                                           "PyTorch state_dict/checkpoint (.pt/.pth)."),
               out: Path = typer.Option(..., help="Student artifact folder to write."),
               name: str = typer.Option("paper", help="Registered architecture of a PyTorch "
                                        "state_dict (Keras files carry their own)."),
               classes: str = typer.Option("B,T4", help="Class names, in output order."),
               input_size: int = typer.Option(48, help="Input side in pixels."),
               fit: str = typer.Option("crop", help="How crops reach the input size: crop or "
                                       "resize (as the float model was trained)."),
               normalisation: str = typer.Option("paper", help="paper ((x/255-0.4819)/0.1484), "
                                                 "unit (x/255) or MEAN,STD."),
               data: Optional[Path] = typer.Option(None, help="Labelled crops: calibration (train), "
                                                   "test score, gate (validation); default: 300 "
                                                   "synthetic crops for calibration, said so."),
               weight_bits: Optional[int] = typer.Option(None, help="Weight bits (default 8)."),
               act_bits: Optional[int] = typer.Option(None, help="Activation bits (default 8)."),
               config: Optional[Path] = typer.Option(None, help="QuantConfig YAML (per-layer bits)."),
               finetune_epochs: int = typer.Option(0, min=0, help="QAT fine-tuning epochs on "
                                                   "--data (labels; registered shapes only)."),
               force: bool = typer.Option(False, help="Write into a non-empty --out folder."),
               as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")):
    """Quantize a float model with data-chosen formats; print how faithfully it follows it."""
    import json

    from cellsort.config import load_config
    from cellsort.distill.imported import ImportConfig, import_student
    from cellsort.outputs import check_output_dir
    from cellsort.student.quantize import QuantConfig

    names = tuple(c.strip() for c in classes.split(","))
    mean, std = _normalisation(normalisation)
    prep = load_config(Preprocessing, None, input_size=(input_size, input_size), fit=fit,
                       mean=mean, std=std)
    qcfg = load_config(QuantConfig, config, weight_bits=weight_bits, act_bits=act_bits)
    cfg = load_config(ImportConfig, None, class_names=names, name=name, quant=qcfg.model_dump(),
                      finetune_epochs=finetune_epochs)
    check_output_dir(out, force)
    split = None
    if data is not None:
        from cellsort.data.load import open_dataset

        split = open_dataset(data, classes)
        split.require_parts("importing a model")
    info = import_student(file, out, prep, cfg, split, log=(lambda msg: None) if as_json else console.print)
    rep = info["quantization_report"]
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return
    _print_report(rep, info["calibration"])
    console.print(f"wrote {out}")


def _print_report(rep: dict, source: str) -> None:
    cols = ("layer", "format", "clipped / saturated", "of")
    table = make_table(f"quantized vs float on {source}", *cols, right=cols)
    for row in rep["layers"]:
        style = "bold red" if row["clipped"] else None
        table.add_row(row["layer"], row["format"], str(row["clipped"]), str(row["of"]), style=style)
    console.print(table)
    console.print(f"argmax agreement {rep['argmax_agreement']:.4f}, logit-margin correlation "
                  f"{rep['margin_correlation']:.4f} over {rep['n_crops']} crops", soft_wrap=True)
    for layer, why in rep.get("widened", {}).items():
        console.print(f"[yellow]{layer}: activation width raised {why} (nothing saturates)[/]",
                      soft_wrap=True)
    if rep["anything_clipped"]:
        console.print("[bold red]WARNING: values clip or saturate (rows in red): the quantized "
                      "model departs from the float one there[/]", soft_wrap=True)
    wider = rep.get("reaches_target")
    if wider:
        console.print(f"[yellow]below 0.99: --weight-bits {wider['weight_bits']} --act-bits "
                      f"{wider['act_bits']} reaches agreement {wider['argmax_agreement']:.4f}, "
                      f"correlation {wider['margin_correlation']:.4f}[/]", soft_wrap=True)
