"""The pixel-parallel RTL back end: the integer plan as synthesizable Verilog, streamed at the
camera's pixel rate, simulated cycle by cycle in Verilator, counted by Yosys.

:mod:`.layers` (geometry and parallelism), :mod:`.schedule` (the exact cycle rules),
:mod:`.network` (the streaming network's Verilog), :mod:`.top` (the instrument top: detection,
line buffer, crop, network, trigger), :mod:`.simulate` (Verilator testbenches), :mod:`.synth`
(Yosys resources and logic depth), :mod:`.design` (build, simulate and count a design folder).
Beside hls4ml, which stays the flow for users with Vitis or Vivado HLS.

May import: the shared base, data, student (artifacts) and the rest of firmware (the integer
plan, the emulator, the streaming detection it must decide as).
"""
from cellsort.firmware.rtl.design import (
    RtlConfig,
    build,
    resources,
    simulate_crops,
    simulate_frames,
)

__all__ = ["RtlConfig", "build", "resources", "simulate_crops", "simulate_frames"]
