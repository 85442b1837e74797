"""Firmware: the student as hardware, and the evidence for it.

hls4ml conversion and the vendor project (:mod:`.project`), the integer plan (:mod:`.plan`)
run by the bit-exact emulator (:mod:`.emulator`, :mod:`.native`) and the RTL back end
(:mod:`.rtl`), the instrument top and its streaming detection (:mod:`.wrapper`,
:mod:`.fpga_detect`), the calibrated latency model (:mod:`.latency`), resources, boards.

Owns: everything between a trained student and a bitstream's sources.
May import: the shared base, data, architecture and student.
"""
