"""The compiled emulator back end equals the NumPy one on every instruction set this CPU runs."""
import numpy as np
import pytest

from cellsort.architecture.fixed import Fixed
from cellsort.cbuild import macros
from cellsort.data import Preprocessing
from cellsort.firmware.emulator import Emulator
from cellsort.firmware.native import NativeUnavailable, compile_plan, isa
from cellsort.firmware.plan import Plan, Step, accumulator_bound, read_plan
from cellsort.student import build_student
from firmware_tests.conftest import perturbed

try:
    RULES = [r for r in isa.rules() if set(r.macros) <= macros()]
except NativeUnavailable as e:  # pragma: no cover - a C compiler is part of the toolchain
    pytest.skip(f"compiled back end not testable: {e}", allow_module_level=True)


def random_plan(rng) -> Plan:
    """A plan of random shapes, formats and shifts (negative ones, widths that need int32 and
    int64 lanes, steps that keep their accumulators, stand-alone activations and pools)."""
    size = (int(rng.integers(7, 15)), int(rng.integers(7, 15)))
    wide = rng.random() < 0.4
    table = rng.integers(-2 ** 20 if wide else -512, 2 ** 20 if wide else 512, 256)
    lo, hi = int(table.min()), int(table.max())
    steps, (h, w, c) = [], (*size, 1)
    for i in range(int(rng.integers(1, 3))):
        kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        f = int(rng.integers(1, 21))
        if h - kh + 1 < 2 or w - kw + 1 < 2:
            break
        wmax = 2 ** 12 if rng.random() < 0.4 else 127
        wts = rng.integers(-wmax, wmax + 1, (kh * kw * c, f))
        bias = rng.integers(-2 ** 14, 2 ** 14, f)
        pool = bool(rng.random() < 0.6)
        fmt = None if rng.random() < 0.3 else Fixed(int(rng.integers(4, 17)),
                                                     int(rng.integers(0, 4)), bool(rng.random() < 0.4))
        step = Step("conv", f"conv{i}", wts, bias, (kh, kw), (lo, hi),
                    accumulator_bound(wts, bias, (lo, hi)), int(rng.integers(-3, 13)), fmt, pool)
        steps.append(step)
        lo, hi = step.out_range
        h, w, c = h - kh + 1, w - kw + 1, f
        if pool:
            h, w = h // 2, w // 2
        if fmt is None and rng.random() < 0.7:
            fmt = Fixed(int(rng.integers(6, 16)), 3, True)
            steps.append(Step("act", f"act{i}", in_range=(lo, hi), shift=int(rng.integers(-2, 10)), fmt=fmt))
            lo, hi = fmt.int_range
        if h >= 2 and w >= 2 and rng.random() < 0.3:
            steps.append(Step("pool", f"pool{i}", in_range=(lo, hi)))
            h, w = h // 2, w // 2
    wts = rng.integers(-127, 128, (h * w * c, int(rng.integers(1, 5))))
    bias = rng.integers(-2 ** 10, 2 ** 10, wts.shape[1])
    steps.append(Step("dense", "logits", wts, bias, (1, 1), (lo, hi), accumulator_bound(wts, bias, (lo, hi))))
    return Plan(table, tuple(steps), 10, size)


@pytest.mark.parametrize("seed", range(16))
def test_compiled_equals_numpy_on_random_plans(seed):
    rng = np.random.default_rng(seed)
    plan = random_plan(rng)
    images = rng.integers(0, 256, (9, *plan.input_size), np.uint8)
    expected = Emulator(plan, backend="numpy").logits(images)
    for rule in RULES:
        codes = compile_plan(plan, rule)(images)
        assert np.array_equal(codes / 2.0 ** plan.out_frac, expected), rule.name


def test_random_plans_reach_every_code_path():
    """The plans above exercise each branch of the generator at least once."""
    from cellsort.firmware.native.codegen import generate

    code = "".join(generate(random_plan(np.random.default_rng(s)), RULES[0]).code for s in range(16))
    for marker in ("const vacc64 *restrict bs", "int64_t *restrict t", "int32_t *restrict t",
                   "] << ", "x0[t] * wv", "int64_t m = ", "sat(rne(", "best[j] = r;"):
        assert marker in code, marker
    if RULES[0].madd:
        assert "memcpy(&p[0]" in code


@pytest.mark.parametrize("name,size,kw", [("paper", (48, 48), {}), ("deep", (40, 40), {}),
                                          ("small", (24, 24), {"act_bits": 12}),
                                          ("small", (24, 24), {"weight_bits": 4, "act_bits": 4})])
def test_compiled_students_equal_numpy_and_qkeras(name, size, kw, crops):
    model = perturbed(build_student(name, input_size=size, **kw))
    prep = Preprocessing(input_size=size)
    fitted = prep.fit_images(crops)
    expected = model(prep(crops), training=False).numpy().astype(np.float64)
    plan = read_plan(model, prep)
    assert np.array_equal(Emulator(plan, backend="numpy").logits(fitted), expected)
    for rule in RULES:
        assert np.array_equal(compile_plan(plan, rule)(fitted) / 2.0 ** plan.out_frac, expected), rule.name
    em = Emulator(plan)
    assert em.backend == "native" and np.array_equal(em.logits(fitted[:1]), expected[:1])


def test_best_rule_takes_pairs_where_it_can():
    """The CPU's best rule is picked, and the paper student's layers use its paired
    multiply-add wherever codes and weights fit int16."""
    from cellsort.firmware.native.codegen import generate

    best = isa.select(macros())
    assert best == RULES[0]
    plan = read_plan(build_student("paper"), Preprocessing())
    code = generate(plan, best).code
    if best.madd:
        assert code.count("memcpy(&p[0]") == 3  # conv1, conv2 and the dense layer
    assert compile_plan(plan).isa == best.name


def test_empty_batch_and_wrong_size():
    plan = random_plan(np.random.default_rng(3))
    for backend in ("native", "numpy"):
        em = Emulator(plan, backend=backend)
        out = em.logits(np.zeros((0, *plan.input_size), np.uint8))
        assert out.shape == (0, plan.steps[-1].w.shape[1])
        with pytest.raises(ValueError, match="the network takes"):
            em.logits(np.zeros((2, plan.input_size[0] + 1, plan.input_size[1]), np.uint8))
    with pytest.raises(ValueError, match="is not one of auto, native, numpy"):
        Emulator(plan, backend="gpu")


def test_kernel_cache_reused_and_private_when_unwritable(tmp_path, monkeypatch):
    plan = random_plan(np.random.default_rng(4))
    monkeypatch.setenv("CELLSORT_CACHE", str(tmp_path / "cache"))
    compile_plan(plan)
    libs = list((tmp_path / "cache" / "kernels").glob("cellsort-*.so"))
    assert len(libs) == 1 and not list(libs[0].parent.glob(".*"))  # no temporary left behind
    stamp = libs[0].stat().st_mtime_ns
    compile_plan(plan)
    assert libs[0].stat().st_mtime_ns == stamp  # found, not rebuilt
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("CELLSORT_CACHE", str(blocker))  # not a folder: the private folder is used
    k = compile_plan(plan)
    images = np.random.default_rng(0).integers(0, 256, (3, *plan.input_size), np.uint8)
    assert np.array_equal(k(images) / 2.0 ** plan.out_frac, Emulator(plan, backend="numpy").logits(images))


def test_no_compiler_falls_back_to_numpy(monkeypatch):
    plan = random_plan(np.random.default_rng(5))
    monkeypatch.setenv("CC", "no-such-compiler-cellsort")
    with pytest.raises(NativeUnavailable, match="no C compiler"):
        Emulator(plan, backend="native")
    with pytest.warns(RuntimeWarning, match="NumPy back end runs instead"):
        em = Emulator(plan)
    assert em.backend == "numpy" and em.isa is None


def test_damaged_cached_kernel_is_rebuilt(tmp_path):
    """A truncated library in the cache (a full disk, a killed copy) is rebuilt, not loaded."""
    import subprocess
    import sys

    script = (
        "import numpy as np\n"
        "from cellsort.architecture.fixed import Fixed\n"
        "from cellsort.firmware.plan import Plan, Step, accumulator_bound\n"
        "from cellsort.firmware.native import compile_plan\n"
        "w = np.arange(-8, 8).reshape(16, 1); b = np.array([3])\n"
        "plan = Plan(np.arange(256) - 128, (Step('dense', 'd', w, b, (1, 1), (-128, 127),"
        " accumulator_bound(w, b, (-128, 127))),), 0, (4, 4))\n"
        "x = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)\n"
        "print(int(compile_plan(plan)(x)[0, 0]))\n")
    env = {**__import__("os").environ, "CELLSORT_CACHE": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    expected = int(((np.arange(16) - 128) * np.arange(-8, 8)).sum() + 3)
    assert int(first.stdout) == expected
    (lib,) = (tmp_path / "kernels").glob("cellsort-*.so")
    lib.write_bytes(lib.read_bytes()[:100])
    again = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert int(again.stdout) == expected and lib.stat().st_size > 100


def test_plan_refuses_convolutions_it_cannot_emulate():
    from cellsort.keras_compat import tf_keras

    keras = tf_keras()
    from qkeras import QActivation, QConv2D, QDense, quantized_bits

    x = keras.Input((12, 12, 1), name="pixels")
    y = QActivation(quantized_bits(10, 2, alpha=1), name="pixels_q")(x)
    y = QConv2D(4, 3, strides=2, kernel_quantizer=quantized_bits(8, 0, alpha=1),
                bias_quantizer=quantized_bits(8, 2, alpha=1), name="strided")(y)
    y = QDense(2, kernel_quantizer=quantized_bits(8, 0, alpha=1),
               bias_quantizer=quantized_bits(8, 2, alpha=1), name="logits")(keras.layers.Flatten()(y))
    with pytest.raises(ValueError, match="'strided' \\(QConv2D\\): a convolution other than 'valid' with stride 1"):
        read_plan(keras.Model(x, y), Preprocessing(input_size=(12, 12)))


@pytest.mark.parametrize("extra", ["batchnorm", "global_pool", "float_relu"])
def test_plan_refuses_by_name_what_it_cannot_run(extra):
    """No layer is skipped in silence: one without an integer rule is named."""
    from cellsort.keras_compat import tf_keras

    keras = tf_keras()
    from qkeras import QActivation, QConv2D, QDense, quantized_bits

    q = dict(kernel_quantizer=quantized_bits(8, 0, alpha=1), bias_quantizer=quantized_bits(8, 2, alpha=1))
    x = keras.Input((12, 12, 1), name="pixels")
    y = QConv2D(4, 3, name="conv1", **q)(QActivation(quantized_bits(10, 2, alpha=1), name="pixels_q")(x))
    y = {"batchnorm": keras.layers.BatchNormalization(name="odd"),
         "global_pool": keras.layers.GlobalAveragePooling2D(name="odd"),
         "float_relu": keras.layers.ReLU(name="odd")}[extra](y)
    y = QDense(2, name="logits", **q)(keras.layers.Flatten()(y) if extra != "global_pool" else y)
    with pytest.raises(ValueError, match="'odd'"):
        read_plan(keras.Model(x, y), Preprocessing(input_size=(12, 12)))


def test_threads_share_one_kernel():
    from concurrent.futures import ThreadPoolExecutor

    plan = read_plan(perturbed(build_student("small", input_size=(24, 24))), Preprocessing(input_size=(24, 24)))
    kernel = compile_plan(plan)
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 256, (64, 24, 24), np.uint8) for _ in range(8)]
    expected = [kernel(b) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(5):
            assert all(np.array_equal(a, b) for a, b in zip(pool.map(kernel, batches), expected))
