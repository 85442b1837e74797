"""Verilog of the streaming network: front end, convolutions, dense layers and the decision.

One module, ``cellsort_net``, follows the rules of :mod:`.schedule` register for register. Its
ports: ``in_valid``/``in_pix_K`` (a crop beat, ``P`` Mono8 pixels, row-major, rows of
``ceil(crop / P)`` beats), ``threshold`` (the gate on the margin, on the logits' integer grid);
out: ``out_valid`` (one cycle a crop), ``logit_F``, ``margin`` (the gate's class over the
largest other logit), ``cls`` (the first arg-max), ``sort`` (``margin > threshold``), and
``overflow`` (sticky: a ring row was overwritten before use, which the schedule rules out;
the testbench checks it stays 0). Layers pass pixels by write lanes (valid, column, channel
codes) and a row-done pulse; every weight is a constant of the generated text.
"""
from __future__ import annotations

import numpy as np

from cellsort.firmware.rtl.layers import ConvLayer, DenseLayer, FrontEnd, signed_bits
from cellsort.firmware.rtl.schedule import Schedule


def csd(value: int) -> list[tuple[int, int]]:
    """Canonical signed digits of ``value``: ``(sign, shift)`` pairs, fewest nonzero digits."""
    digits, k = [], 0
    while value:
        if value & 1:
            d = 2 - (value & 3)  # +1 or -1
            digits.append((d, k))
            value -= d
        value >>= 1
        k += 1
    return digits


def constant_product(x: str, weight: int, bits: int) -> str:
    """``x * weight`` as shifts and adds of ``x`` (its canonical signed digits), ``bits`` wide:
    a constant multiplier in plain adders, no DSP or multiplier array."""
    terms = [("+ " if sign > 0 else "- ") + (f"({x} <<< {shift})" if shift else x)
             for sign, shift in csd(int(weight))]
    return f"{lit(0, bits)} {' '.join(terms)}"  # the signed zero sets the width for every term


def lit(value: int, bits: int | None = None) -> str:
    """A signed Verilog literal of ``value``."""
    value = int(value)
    bits = bits or signed_bits(value, value) + 1
    return f"{bits}'sd{value}" if value >= 0 else f"-{bits}'sd{-value}"


def ubits(n: int) -> int:
    """Bits of an unsigned counter up to ``n``."""
    return max(1, int(n).bit_length())


class Lanes:
    """A producer's write lanes into the next layer: ``prefix{e}_v``, ``_col``, ``_d``,
    ``prefix_done``; ``bits`` per channel code, ``channels`` per pixel. Column ``c`` of a row is
    always written by lane ``lane_of[c]`` (so a ring stores it without any multiplexer)."""

    def __init__(self, prefix: str, count: int, channels: int, bits: int, width: int,
                 lane_of: list[int] | None = None):
        self.prefix, self.count, self.channels, self.bits, self.width = prefix, count, channels, bits, width
        self.lane_of = lane_of if lane_of is not None else [c % count for c in range(width)]

    def v(self, e):
        return f"{self.prefix}{e}_v"

    def col(self, e):
        return f"{self.prefix}{e}_col"

    def d(self, e):
        return f"{self.prefix}{e}_d"

    @property
    def done(self):
        return f"{self.prefix}_done"

    def declare(self) -> list[str]:
        cb = ubits(self.width)
        out = []
        for e in range(self.count):
            out += [f"reg {self.v(e)};", f"reg [{cb - 1}:0] {self.col(e)};",
                    f"reg [{self.channels * self.bits - 1}:0] {self.d(e)};"]
        return out + [f"reg {self.done};"]


class Writer:
    """Collects the declarations and clocked statements of the module."""

    def __init__(self):
        self.decl: list[str] = []
        self.comb: list[str] = []
        self.seq: list[str] = []
        self.reset: list[str] = []

    def reg(self, name: str, bits: int, signed: bool = False, reset: int | None = None):
        s = "signed " if signed else ""
        self.decl.append(f"reg {s}[{bits - 1}:0] {name};")
        if reset is not None:
            self.reset.append(f"{name} <= {reset};")


def _requant(w: "Writer", name: str, expr: str, bits: int, step, out_bits: int) -> str:
    """Wires turning ``expr`` (an accumulator of ``bits``) into the step's output code: divide
    by ``2**shift`` rounding half to even, saturate (or shift left); returns the code's wire."""
    if step.fmt is None:
        return expr
    lo, hi = step.fmt.int_range
    s = step.shift
    wide = bits + max(0, -s) + 2
    w.decl.append(f"wire signed [{wide - 1}:0] {name}_x = {expr};")
    if s > 0:
        w.decl.append(f"wire signed [{wide - 1}:0] {name}_r = ({name}_x + $signed({{1'b0, {name}_x[{s}]}}) "
                      f"+ {lit((1 << (s - 1)) - 1, wide)}) >>> {s};")
    else:
        w.decl.append(f"wire signed [{wide - 1}:0] {name}_r = {name}_x <<< {-s};")
    w.decl.append(f"wire signed [{out_bits - 1}:0] {name} = ({name}_r < {lit(lo, wide)}) ? {lit(lo, out_bits)} : "
                  f"({name}_r > {lit(hi, wide)}) ? {lit(hi, out_bits)} : {name}_r[{out_bits - 1}:0];")
    return name


def _tree(w: Writer, prefix: str, terms: list[tuple[str, int]], levels: int) -> str:
    """A pairwise adder tree over ``terms`` (name, bound on its magnitude), registered each level
    (``levels`` in all; fewer terms are delayed to the same depth), each node as wide as the sum
    of its inputs' bounds needs; returns the name of the sum."""
    if not terms:
        terms = [(lit(0, 2), 0)]
    for level in range(levels):
        nxt = []
        for i in range(0, len(terms), 2):
            name = f"{prefix}_t{level}_{i // 2}"
            pair = terms[i:i + 2]
            bound = sum(b for _, b in pair)
            w.reg(name, signed_bits(-bound, bound), signed=True)
            w.seq.append(f"{name} <= {' + '.join(n for n, _ in pair)};")
            nxt.append((name, bound))
        terms = nxt
    assert len(terms) == 1, (prefix, len(terms))
    return terms[0][0]


def _rom(name: str, table: np.ndarray, bits: int) -> str:
    cases = "\n".join(f"        8'd{i}: {name} = {lit(int(v), bits)};" for i, v in enumerate(table))
    return (f"function signed [{bits - 1}:0] {name};\n    input [7:0] x;\n    case (x)\n{cases}\n"
            f"        default: {name} = {lit(0, bits)};\n    endcase\nendfunction")


def _divide_round(b: int) -> tuple[int, int]:
    """``M, S`` with ``(s + b*b // 2) // (b*b) == ((s + b*b // 2) * M) >> S`` for every sum
    ``s`` of ``b*b`` 8-bit pixels (checked exhaustively)."""
    n = b * b
    top = 255 * n + n // 2
    for shift in range(8, 40):
        m = -(-(1 << shift) // n)
        x = np.arange(top + 1, dtype=np.int64)
        if np.array_equal((x * m) >> shift, x // n):
            return m, shift
    raise AssertionError(f"no exact reciprocal for {n}")


def _front(w: Writer, f: FrontEnd, out: Lanes) -> None:
    """Beat counters, binning and the ROM, writing ``out``."""
    bb, rb = ubits(f.beats), ubits(f.h)
    w.reg("f_beat", bb, reset=0)
    w.reg("f_row", rb, reset=0)
    w.seq.append(f"if (in_valid) begin\n    f_beat <= (f_beat == {f.beats - 1}) ? 0 : f_beat + 1;\n"
                 f"    if (f_beat == {f.beats - 1}) f_row <= (f_row == {f.h - 1}) ? 0 : f_row + 1;\nend")
    # stage A: the beat's pixels (and, binned, the column sums)
    w.reg("fa_v", 1, reset=0)
    w.reg("fa_beat", bb)
    w.reg("fa_lastrow", 1)
    w.seq.append("fa_v <= in_valid;\nfa_beat <= f_beat;")
    b = f.bin
    w.seq.append(f"fa_lastrow <= (f_row % {b}) == {b - 1};" if b > 1 else "fa_lastrow <= 1'b1;")
    sb = ubits(255 * b)
    if b == 1:
        for i in range(f.p):
            w.reg(f"fa_p{i}", 8)
            w.seq.append(f"fa_p{i} <= in_pix_{i};")
    else:
        cols = f.beats * f.p
        w.reg("f_colsum", cols * sb)
        w.reg("f_fin", cols * sb)
        for i in range(f.p):
            at = f"(f_beat * {f.p} + {i}) * {sb}"
            w.seq.append(f"if (in_valid) begin\n    if ((f_row % {b}) == 0) f_colsum[{at} +: {sb}] <= in_pix_{i};\n"
                         f"    else f_colsum[{at} +: {sb}] <= f_colsum[{at} +: {sb}] + in_pix_{i};\n"
                         f"    if ((f_row % {b}) == {b - 1}) f_fin[{at} +: {sb}] <= f_colsum[{at} +: {sb}] + in_pix_{i};\nend")
    # stage B: the binned pixels each beat completes, one lane each
    w.reg("fb_v", 1, reset=0)
    w.reg("fb_beat", bb)
    w.seq.append("fb_v <= fa_v && fa_lastrow;\nfb_beat <= fa_beat;")
    m, s = _divide_round(b) if b > 1 else (1, 0)
    for e in range(f.out_lanes):
        w.reg(f"fb_p{e}", 8)
    cases = []
    for beat in range(f.beats):
        body = []
        for e, j in enumerate(f.groups_of_beat(beat)):
            if b == 1:
                body.append(f"fb_p{e} <= fa_p{j - beat * f.p};")
            else:
                total = " + ".join(f"f_fin[{(j * b + k) * sb} +: {sb}]" for k in range(b))
                body.append(f"fb_p{e} <= ((({total}) + {b * b // 2}) * {m}) >> {s};")
        cases.append(f"    {bb}'d{beat}: begin {' '.join(body)} end")
    w.seq.append("case (fa_beat)\n" + "\n".join(cases) + "\n    default: ;\nendcase")
    # stage C: ROM codes written into the first layer
    w.comb.append(_rom("rom_code", f.table, f.code_bits))
    active = [beat for beat in range(f.beats) if len(f.groups_of_beat(beat))]
    for e in range(f.out_lanes):
        valid, col = [], []
        for beat in range(f.beats):
            g = f.groups_of_beat(beat)
            if e < len(g):
                valid.append(f"fb_beat == {bb}'d{beat}")
                col.append(f"(fb_beat == {bb}'d{beat}) ? {g[e]} : ")
        any_valid = " || ".join(valid) or "1'b0"
        w.seq.append(f"{out.v(e)} <= fb_v && ({any_valid});\n"
                     f"{out.col(e)} <= {''.join(col)}0;\n{out.d(e)} <= rom_code(fb_p{e});")
        w.reset.append(f"{out.v(e)} <= 0;")
    w.seq.append(f"{out.done} <= fb_v && fb_beat == {bb}'d{active[-1]};")
    w.reset.append(f"{out.done} <= 0;")


def _conv(w: Writer, i: int, c: ConvLayer, inp: Lanes, out: Lanes, ring: int) -> None:
    """Ring, controller, window, products, trees, bias, pool and requantization of a conv."""
    p = f"c{i}"
    cib = c.cin * c.in_bits
    rowbits = c.w * cib
    sb, rcb = ubits(ring), ubits(c.rows_computed)
    w.reg(f"{p}_wrow", 32, reset=0)
    w.reg(f"{p}_wslot", sb, reset=0)
    w.reg(f"{p}_need", 32, reset=0)
    w.reg(f"{p}_rslot", sb, reset=0)
    w.reg(f"{p}_o", rcb, reset=0)
    w.reg(f"{p}_runc", ubits(c.cycles_per_row), reset=0)
    w.reg(f"{p}_j", ubits(c.cycles_per_row), reset=0)
    w.reg(f"{p}_par", 1, reset=0)
    for r in range(ring):
        w.reg(f"{p}_ring{r}", rowbits)
    # writes into the ring and the overflow check
    for col in range(c.w):
        e = inp.lane_of[col]
        for r in range(ring):
            w.seq.append(f"if ({inp.v(e)} && {inp.col(e)} == {col} && {p}_wslot == {r}) "
                         f"{p}_ring{r}[{col * cib} +: {cib}] <= {inp.d(e)};")
    for e in range(inp.count):
        w.seq.append(f"if ({inp.v(e)} && $signed({p}_wrow - {p}_need) >= {ring}) overflow <= 1'b1;")
    w.seq.append(f"if ({inp.done}) begin {p}_wrow <= {p}_wrow + 1; "
                 f"{p}_wslot <= ({p}_wslot == {ring - 1}) ? 0 : {p}_wslot + 1; end")
    # controller
    start = f"{p}_start"
    w.decl.append(f"wire {start} = ({p}_runc <= 1) && ({p}_wrow >= {p}_need + {c.kh});")
    wrap = (c.h - c.rows_computed + 1)
    w.seq.append(
        f"if ({start}) begin\n"
        f"    {p}_runc <= {c.cycles_per_row}; {p}_j <= 0; {p}_par <= {p}_o[0];\n"
        f"    if ({p}_o == {c.rows_computed - 1}) begin {p}_o <= 0; {p}_need <= {p}_need + {wrap}; "
        f"{p}_rslot <= ({p}_rslot + {wrap % ring} >= {ring}) ? {p}_rslot + {wrap % ring} - {ring} : {p}_rslot + {wrap % ring}; end\n"
        f"    else begin {p}_o <= {p}_o + 1; {p}_need <= {p}_need + 1; "
        f"{p}_rslot <= ({p}_rslot == {ring - 1}) ? 0 : {p}_rslot + 1; end\n"
        f"end else if ({p}_runc != 0) begin {p}_runc <= {p}_runc - 1; {p}_j <= {p}_j + 1; end")
    for dy in range(c.kh):
        w.reg(f"{p}_win{dy}", rowbits)
    cases = []
    for v in range(ring):
        body = " ".join(f"{p}_win{dy} <= {p}_ring{(v + dy) % ring};" for dy in range(c.kh))
        cases.append(f"        {sb}'d{v}: begin {body} end")
    shifts = " ".join(f"{p}_win{dy} <= {p}_win{dy} >> {c.pe * cib};" for dy in range(c.kh))
    w.seq.append(f"if ({start}) begin\n    case ({p}_rslot)\n" + "\n".join(cases)
                 + f"\n        default: ;\n    endcase\nend else if ({p}_runc != 0) begin {shifts} end")
    # tags through the pipeline: valid, first column, row parity, last cycle of the row
    cb = ubits(c.cols_computed + c.pe)
    depth = c.depth
    for name, bits in (("tv", 1), ("tcol", cb), ("tpar", 1), ("tlast", 1)):
        for k in range(1, depth + 1):
            w.reg(f"{p}_{name}{k}", bits, reset=0 if name == "tv" else None)
    w.seq.append(f"{p}_tv1 <= {p}_runc != 0; {p}_tcol1 <= {p}_j * {c.pe}; "
                 f"{p}_tpar1 <= {p}_par; {p}_tlast1 <= {p}_runc == 1;")
    for k in range(2, depth + 1):
        w.seq.append(" ".join(f"{p}_{n}{k} <= {p}_{n}{k - 1};" for n in ("tv", "tcol", "tpar", "tlast")))
    # products and trees, lane by lane
    ab = c.acc_bits
    wcodes = c.step.w.reshape(c.kh, c.kw, c.cin, c.cout)
    xmax = max(abs(v) for v in c.step.in_range)
    accs = {}
    for lane in range(c.pe):
        for f in range(c.cout):
            terms = []
            for dy in range(c.kh):
                for dx in range(c.kw):
                    for ci in range(c.cin):
                        wt = int(wcodes[dy, dx, ci, f])
                        if wt == 0:
                            continue
                        x = f"$signed({p}_win{dy}[{((lane + dx) * c.cin + ci) * c.in_bits} +: {c.in_bits}])"
                        name = f"{p}_m{lane}_{f}_{len(terms)}"
                        bound = xmax * abs(wt)
                        bits = signed_bits(-bound, bound) + 1  # CSD partial sums may pass the product
                        w.reg(name, bits, signed=True)
                        w.seq.append(f"{name} <= {constant_product(x, wt, bits)};")
                        terms.append((name, bound))
            total = _tree(w, f"{p}_s{lane}_{f}", terms, c.levels)
            acc = f"{p}_a{lane}_{f}"
            w.reg(acc, ab, signed=True)
            w.seq.append(f"{acc} <= {total} + {lit(int(c.step.bias[f]), ab)};")
            accs[lane, f] = acc
    _conv_output(w, p, c, accs, out, depth, cb)


def _conv_output(w: Writer, p: str, c: ConvLayer, accs: dict, out: Lanes, depth: int, cb: int) -> None:
    """The output stage: pooling on the accumulators (even rows stored, odd rows compared),
    requantization, the writes into the next layer."""
    ab, ob, k = c.acc_bits, out.bits, depth
    tv, tcol, tpar, tlast = (f"{p}_{n}{k}" for n in ("tv", "tcol", "tpar", "tlast"))
    made = iter(range(10 ** 9))

    def code(expr):
        return _requant(w, f"{p}_q{next(made)}", expr, ab, c.step, ob)

    for e in range(out.count):
        w.reset.append(f"{out.v(e)} <= 0;")
    w.reset.append(f"{out.done} <= 0;")
    if not c.step.pool:
        for lane in range(c.pe):
            d = ", ".join(code(accs[lane, f]) for f in reversed(range(c.cout)))
            w.seq.append(f"{out.v(lane)} <= {tv} && ({tcol} + {lane} < {c.cols_computed});\n"
                         f"{out.col(lane)} <= {tcol} + {lane};\n{out.d(lane)} <= {{{d}}};")
        w.seq.append(f"{out.done} <= {tv} && {tlast};")
        return
    # the even row's accumulators wait in a chain, one stage per RUN cycle: the odd row
    # computes its columns in the same order, so its partners leave the chain's head
    n = c.cycles_per_row
    for k2 in range(n):
        for lane in range(c.pe):
            for f in range(c.cout):
                w.reg(f"{p}_e{k2}_{lane}_{f}", ab, signed=True)
    moves = []
    for lane in range(c.pe):
        for f in range(c.cout):
            moves += [f"{p}_e{k2}_{lane}_{f} <= {p}_e{k2 + 1}_{lane}_{f};" for k2 in range(n - 1)]
            moves.append(f"{p}_e{n - 1}_{lane}_{f} <= {accs[lane, f]};")
    w.seq.append(f"if ({tv}) begin " + " ".join(moves) + " end")
    vmax = {}
    for lane in range(c.pe):
        for f in range(c.cout):
            ev = f"{p}_e0_{lane}_{f}"
            vm = f"{p}_vm{lane}_{f}"
            w.decl.append(f"wire signed [{ab - 1}:0] {vm} = ({ev} > {accs[lane, f]}) ? {ev} : {accs[lane, f]};")
            vmax[lane, f] = vm
    odd = f"{tv} && {tpar}"
    if c.pe == 1:
        for f in range(c.cout):
            w.reg(f"{p}_hold{f}", ab, signed=True)
            w.seq.append(f"if ({odd} && !{tcol}[0]) {p}_hold{f} <= {vmax[0, f]};")
        hm = [f"(({p}_hold{f} > {vmax[0, f]}) ? {p}_hold{f} : {vmax[0, f]})" for f in range(c.cout)]
        d = ", ".join(code(h) for h in reversed(hm))
        w.seq.append(f"{out.v(0)} <= {odd} && {tcol}[0];\n{out.col(0)} <= {tcol} >> 1;\n{out.d(0)} <= {{{d}}};")
    else:
        for q in range(c.pe // 2):
            hm = [f"(({vmax[2 * q, f]} > {vmax[2 * q + 1, f]}) ? {vmax[2 * q, f]} : {vmax[2 * q + 1, f]})"
                  for f in range(c.cout)]
            d = ", ".join(code(h) for h in reversed(hm))
            w.seq.append(f"{out.v(q)} <= {odd} && ({tcol} + {2 * q} < {c.cols_computed});\n"
                         f"{out.col(q)} <= ({tcol} >> 1) + {q};\n{out.d(q)} <= {{{d}}};")
    w.seq.append(f"{out.done} <= {odd} && {tlast};")


def _dense(w: Writer, i: int, dl: DenseLayer, inp: Lanes, out: Lanes | None, sort_class: int) -> None:
    """Weight ROMs by pixel, products, tree, the accumulator, and the result or the decision."""
    p = f"d{i}"
    h = dl.n // dl.w
    rb = ubits(max(h - 1, 1))
    w.reg(f"{p}_row", rb, reset=0)
    w.seq.append(f"if ({inp.done}) {p}_row <= ({p}_row == {h - 1}) ? 0 : {p}_row + 1;")
    wb = signed_bits(int(dl.step.w.min(initial=0)), int(dl.step.w.max(initial=0)))
    ab = dl.acc_bits
    wcodes = dl.step.w.reshape(dl.n, dl.c, dl.f)
    ib = ubits(dl.n)
    for e in range(inp.count):
        w.reg(f"{p}_x{e}", dl.c * dl.in_bits)
        w.reg(f"{p}_v{e}", 1, reset=0)
        w.reg(f"{p}_w{e}", dl.c * dl.f * wb)
        w.decl.append(f"wire [{ib - 1}:0] {p}_idx{e} = {p}_row * {dl.w} + {inp.col(e)};")
        w.seq.append(f"{p}_x{e} <= {inp.d(e)}; {p}_v{e} <= {inp.v(e)};")
        cases = []
        for n in range(dl.n):
            packed = ", ".join(f"{lit(int(wcodes[n, c, f]), wb)}" for c in reversed(range(dl.c))
                               for f in reversed(range(dl.f)))
            cases.append(f"        {ib}'d{n}: {p}_w{e} <= {{{packed}}};")
        w.seq.append(f"case ({p}_idx{e})\n" + "\n".join(cases) + f"\n        default: {p}_w{e} <= 0;\nendcase")
    # the crop's last pixel, through ROM, products and tree to the accumulator
    last_depth = dl.levels + 2
    for k in range(1, last_depth + 1):
        w.reg(f"{p}_last{k}", 1, reset=0)
    w.seq.append(f"{p}_last1 <= {inp.done} && {p}_row == {h - 1};")
    for k in range(2, last_depth + 1):
        w.seq.append(f"{p}_last{k} <= {p}_last{k - 1};")
    xmax = max(abs(v) for v in dl.step.in_range)
    for f in range(dl.f):
        terms = []
        for e in range(inp.count):
            for c in range(dl.c):
                name = f"{p}_m{e}_{c}_{f}"
                bound = xmax * int(np.abs(wcodes[:, c, f]).max(initial=0))
                bits = signed_bits(-bound, bound)
                w.reg(name, bits, signed=True)
                x = f"$signed({p}_x{e}[{c * dl.in_bits} +: {dl.in_bits}])"
                wt = f"$signed({p}_w{e}[{(c * dl.f + f) * wb} +: {wb}])"
                w.seq.append(f"{name} <= {p}_v{e} ? {x} * {wt} : {lit(0, bits)};")
                terms.append((name, bound))
        total = _tree(w, f"{p}_s{f}", terms, dl.levels)
        bias = lit(int(dl.step.bias[f]), ab)
        w.reg(f"{p}_acc{f}", ab, signed=True, reset=bias)
        w.reg(f"{p}_res{f}", ab, signed=True)
        w.seq.append(f"if ({p}_last{last_depth}) begin {p}_res{f} <= {p}_acc{f} + {total}; "
                     f"{p}_acc{f} <= {bias}; end else {p}_acc{f} <= {p}_acc{f} + {total};")
    w.reg(f"{p}_rv", 1, reset=0)
    w.seq.append(f"{p}_rv <= {p}_last{last_depth};")
    if out is not None:  # a hidden dense layer: its result is one pixel of the next
        d = ", ".join(_requant(w, f"{p}_q{f}", f"{p}_res{f}", ab, dl.step, out.bits) for f in reversed(range(dl.f)))
        w.seq.append(f"{out.v(0)} <= {p}_rv; {out.col(0)} <= 0; {out.d(0)} <= {{{d}}}; {out.done} <= {p}_rv;")
        w.reset += [f"{out.v(0)} <= 0;", f"{out.done} <= 0;"]
        return
    # the decision: margin of the gate's class over the largest other logit, the arg-max
    others = [f"{p}_res{f}" for f in range(dl.f) if f != sort_class]
    best = others[0]
    for o in others[1:]:
        best = f"(({o} > {best}) ? {o} : {best})"
    mb = ab + 1
    w.decl.append(f"wire signed [{mb - 1}:0] {p}_margin = {p}_res{sort_class} - {best};")
    # first arg-max: the lowest index holding the maximum
    best_all = f"{p}_res0"
    for f in range(1, dl.f):
        best_all = f"(({p}_res{f} > {best_all}) ? {p}_res{f} : {best_all})"
    w.decl.append(f"wire signed [{ab - 1}:0] {p}_max = {best_all};")
    arg = f"8'd{dl.f - 1}"
    for f in reversed(range(dl.f - 1)):
        arg = f"({p}_res{f} == {p}_max) ? 8'd{f} : {arg}"
    w.seq.append(f"out_valid <= {p}_rv;\nif ({p}_rv) begin\n    margin <= {p}_margin; cls <= {arg}; "
                 f"sort <= {p}_margin > threshold;\n"
                 + "".join(f"    logit_{f} <= {p}_res{f};\n" for f in range(dl.f)) + "end")
    w.reset.append("out_valid <= 0;")


def network_verilog(front: FrontEnd, layers: list, sched: Schedule, sort_class: int,
                    module: str = "cellsort_net") -> str:
    """The Verilog text of the network (see the module doc)."""
    w = Writer()
    lane_of = [j - front.groups_of_beat(b)[0] for b in range(front.beats) for j in front.groups_of_beat(b)]
    lanes = [Lanes("w0_", front.out_lanes, 1, front.code_bits, front.out_w, lane_of)]
    for i, layer in enumerate(layers):
        if isinstance(layer, ConvLayer):
            lanes.append(Lanes(f"w{i + 1}_", layer.out_lanes, layer.cout, layer.out_bits, layer.out_w))
        elif i + 1 < len(layers):
            lanes.append(Lanes(f"w{i + 1}_", 1, layer.f, layer.out_bits, 1))
    for ln in lanes:
        w.decl += ln.declare()
    _front(w, front, lanes[0])
    for i, layer in enumerate(layers):
        if isinstance(layer, ConvLayer):
            _conv(w, i, layer, lanes[i], lanes[i + 1], sched.ring_rows[layer.name])
        else:
            _dense(w, i, layer, lanes[i], lanes[i + 1] if i + 1 < len(layers) else None, sort_class)
    last: DenseLayer = layers[-1]
    ab, f = last.acc_bits, last.f
    ports = [*(f"input wire [7:0] in_pix_{k}," for k in range(front.p)),
             f"input wire signed [{ab}:0] threshold,", "output reg out_valid,",
             *(f"output reg signed [{ab - 1}:0] logit_{k}," for k in range(f)),
             f"output reg signed [{ab}:0] margin,", "output reg [7:0] cls,", "output reg sort,",
             "output reg overflow"]
    w.reset.append("overflow <= 1'b0;")
    body = "\n".join([
        f"// Generated by cellsort.firmware.rtl: the streaming network ({front.h}x{front.w} crop, "
        f"bin {front.bin}, {front.p} pixels a clock). Do not edit.",
        f"module {module} (", "    input wire clk,", "    input wire rst,", "    input wire in_valid,",
        *(f"    {x}" for x in ports), ");",
        *(f"{d}" for d in w.decl), *w.comb,
        "always @(posedge clk) begin",
        "    if (rst) begin", *(f"        {r}" for r in w.reset), "    end else begin",
        *("        " + line for s in w.seq for line in s.split("\n")),
        "    end", "end", "endmodule", ""])
    return body
