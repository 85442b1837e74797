"""Build a run report: find what a run folder holds, make its sections, write one HTML file.

The page is self-contained (figures embedded as base64 PNG) and the PNGs are written beside it
in ``<name>_files/``; every number in it names the file and JSON path it was read from.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from cellsort.atomic import write_bytes, write_text
from cellsort.errors import DataError
from cellsort.report.sections import Context, Section, ordered_rules

#: How deep below the run folder results are looked for (demo: stage folders one level down).
MAX_DEPTH = 2


@dataclass
class Report:
    html: Path
    png_dir: Path
    sections: list[Section]

    def to_dict(self) -> dict:
        return {"html": str(self.html), "png_dir": str(self.png_dir),
                "sections": [{"title": s.title, "folder": s.folder,
                              "figures": [f.name for f in s.figures],
                              "facts": {f"{f.source}:{f.path}": f.value for f in s.facts}}
                             for s in self.sections]}


def _skipped(folder: Path) -> bool:
    """Hidden folders, a report's PNG folder, and a search's per-trial students (the search's
    own section shows its front)."""
    return (folder.name.startswith(".") or folder.name.endswith("_files")
            or (folder.name == "trials" and (folder.parent / "explore.json").is_file()))


def _folders(root: Path) -> list[Path]:
    found, frontier = [root], [root]
    for _ in range(MAX_DEPTH):
        frontier = sorted(p for f in frontier for p in f.iterdir() if p.is_dir() and not _skipped(p))
        found += frontier
    return found


def _build(rule, folder: Path, ctx: Context) -> Section:
    """One rule's section; a file that does not hold what its kind promises is bad input."""
    try:
        return rule.build(folder, ctx)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise DataError(f"{folder}: its {rule.name} results are not readable "
                        f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from exc


def collect(root: str | Path) -> list[Section]:
    """Every section the registered rules find in ``root`` and its sub-folders, in rule order."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such run folder")
    ctx = Context(root)
    folders = _folders(root)
    sections = [_build(r, f, ctx) for r in ordered_rules() for f in folders if r.match(f)]
    seen: dict[str, int] = {}
    for fig in (fig for s in sections for fig in s.figures):  # one PNG file name per figure
        seen[fig.name] = seen.get(fig.name, 0) + 1
        if seen[fig.name] > 1:
            fig.name = f"{fig.name}_{seen[fig.name]}"
    if not sections:
        raise DataError(f"{root}: holds no cellsort results (run.json, teacher.json, artifact.json, "
                        "firmware.json, summary.json or a score summary)")
    return sections


def render(sections: list[Section], title: str, root: str, png_dir: str) -> str:
    """The HTML page (Jinja2 template ``templates/report.html.j2``)."""
    import jinja2

    from cellsort import __version__

    env = jinja2.Environment(loader=jinja2.PackageLoader("cellsort.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    return env.get_template("report.html.j2").render(
        sections=sections, title=title, root=root, png_dir=png_dir, version=__version__,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))


def build_report(run_dir: str | Path, out: str | Path | None = None) -> Report:
    """Write the report of ``run_dir`` to ``out`` (default ``run_dir/report.html``).

    Returns
    -------
    Report
        The HTML path, the folder of PNG copies and the sections.
    """
    run_dir = Path(run_dir)
    out = Path(out) if out is not None else run_dir / "report.html"
    if out.suffix.lower() not in (".html", ".htm"):
        raise DataError(f"{out}: a report is an .html file")
    sections = collect(run_dir)
    png_dir = out.with_name(out.stem + "_files")
    png_dir.mkdir(parents=True, exist_ok=True)
    for s in sections:
        for fig in s.figures:
            write_bytes(png_dir / f"{fig.name}.png", fig.png)
    write_text(out, render(sections, run_dir.resolve().name, str(run_dir), png_dir.name))
    return Report(out, png_dir, sections)
