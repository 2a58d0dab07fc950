"""What makes the compiled exact-rate path fast, checked without timing anything.

The exact rates run at ~9 ns per node and step instead of ~80 because (1) exp, expm1 and cbrt are
:mod:`hhcable.vecmath`'s, plain arithmetic instead of calls into the C library, and (2) the
channel's functions are inlined into one branch-free loop that LLVM vectorises.  Here: (1)
those functions against the C library's (through numpy) over the whole double range, and
(2) the generated loop's LLVM code: no call to exp/expm1 left, and vector instructions where
the CPU has AVX2.  Speed itself is measured in ``benchmarks/channels.py``, never here.
"""

import math
import types

import numpy as np
import pytest

pytest.importorskip("numba")

import numba  # noqa: E402
from llvmlite import binding  # noqa: E402

import hhcable as hc  # noqa: E402
from hhcable import kernels, vecmath  # noqa: E402

#: Largest error (units in the last place) against the C library where the result is a
#: normal number: the Taylor series is cut where the next term is below 5e-18 (0.02 ulp),
#: so what is left is the rounding of ~15 operations, bounded by 1 ulp for exp (measured:
#: 1.0) and 2 for expm1 (measured: 2.0), the C library itself being within 1 ulp.
MAX_ULP = {"exp": 1.0, "expm1": 2.0}


@numba.njit(**vecmath.JIT_OPTIONS)
def _evaluate(x, exp, expm1, pair_exp, pair_expm1):
    for i in range(x.size):
        exp[i] = vecmath.exp(x[i])
        expm1[i] = vecmath.expm1(x[i])
        pair_exp[i], pair_expm1[i] = vecmath.exp_expm1(x[i])


def _arguments():
    rng = np.random.default_rng(11)
    return np.concatenate([rng.uniform(-750.0, 715.0, 100_000), rng.uniform(-1.0, 1.0, 50_000),
                           rng.uniform(-1e-8, 1e-8, 20_000), rng.uniform(-40.0, 0.0, 20_000),
                           [0.0, -0.0, 1e-310, -1e-310, 0.5 * math.log(2), -0.5 * math.log(2)]])


def test_exp_and_expm1_agree_with_the_c_library_to_an_ulp_or_two():
    x = _arguments()
    out = [np.empty_like(x) for _ in range(4)]
    _evaluate(x, *out)
    with np.errstate(over="ignore"):
        want = {"exp": np.exp(x), "expm1": np.expm1(x)}
    below = x <= 709.0  # exp_expm1 overflows from 709.09 on (documented)
    for name, got, where in (("exp", out[0], None), ("expm1", out[1], None),
                             ("exp", out[2], below), ("expm1", out[3], below)):
        ref = want[name]
        normal = np.isfinite(ref) & (np.abs(ref) >= np.finfo(float).tiny)
        if where is not None:
            normal &= where
        ulp = np.abs(got[normal] - ref[normal]) / np.spacing(np.abs(ref[normal]))
        assert ulp.max() <= MAX_ULP[name], (name, x[normal][np.argmax(ulp)])
    # Subnormal results (below 2.2e-308) are rounded twice: within one subnormal step.
    tiny = (want["exp"] > 0) & (want["exp"] < np.finfo(float).tiny)
    assert np.all(np.abs(out[0][tiny] - want["exp"][tiny]) <= 2 * np.finfo(float).smallest_subnormal)


def test_special_values_are_those_of_the_c_library():
    x = np.array([np.inf, -np.inf, np.nan, 710.0, 1e6, -746.0, -1e6, 0.0])
    out = [np.empty_like(x) for _ in range(4)]
    _evaluate(x, *out)
    exp, expm1, pair_exp, pair_expm1 = out
    np.testing.assert_array_equal(exp, [np.inf, 0.0, np.nan, np.inf, np.inf, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(expm1, [np.inf, -1.0, np.nan, np.inf, np.inf, -1.0, -1.0, 0.0])
    np.testing.assert_array_equal(pair_exp, exp)
    np.testing.assert_array_equal(pair_expm1, expm1)


@numba.njit(**vecmath.JIT_OPTIONS)
def _cube_roots(x, out):
    for i in range(x.size):
        out[i] = vecmath.cbrt(x[i])


def test_cbrt_agrees_with_the_c_library_to_an_ulp():
    # Three Halley steps from a 5-bit guess leave ~0.02 ulp; with the rounding of the last
    # step: 1 ulp (measured: 1.0, mean 0.1), subnormal arguments and the largest double included.
    rng = np.random.default_rng(5)
    x = np.concatenate([10.0 ** rng.uniform(-323.0, 308.2, 100_000) * rng.choice([-1.0, 1.0], 100_000),
                        rng.uniform(-2.0, 2.0, 20_000), [5e-324, -5e-324, np.finfo(float).max, 8.0, -27.0]])
    got = np.empty_like(x)
    _cube_roots(x, got)
    want = np.cbrt(x)
    assert np.max(np.abs(got - want) / np.spacing(np.abs(want))) <= 1.0
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])
    _cube_roots(special, got[:5])
    np.testing.assert_array_equal(got[:5], special)
    assert np.signbit(got[1])


def _fresh_kernel(channel):
    """The generated module for ``channel`` compiled now (not loaded from the disk cache, whose
    machine code numba will not show)."""
    spec = channel.spec()
    module = types.ModuleType("fresh_kernel")
    done = {}
    for name, _, func in kernels._functions(spec):
        setattr(module, f"_c0_{name}", kernels._jit_tree(func, done))
    exec(compile(kernels.source([spec]).replace("cache=True", "cache=False"), "fresh_kernel", "exec"),
         module.__dict__)
    return module


def test_exact_rate_loop_calls_no_exp_and_is_vectorised():
    module = _fresh_kernel(hc.HH)
    n = 16
    rows = [np.full(n, 0.5) for _ in range(len(hc.HH.spec().params) + 3)]
    x = np.linspace(-80.0, 40.0, n)
    module.gates_0(False, x, np.zeros(n), np.zeros(n), np.zeros((1, 12)), 20.0, -0.01, -0.01, -0.01, *rows)
    ir = next(iter(module.gates_0.inspect_llvm().values()))
    calls = {line.split("@")[1].split("(")[0] for line in ir.splitlines() if " call " in line and "@" in line}
    assert not any(c in ("exp", "expm1") or c.startswith(("llvm.exp.", "llvm.expm1")) for c in calls), calls
    if "+avx2" in binding.get_host_cpu_features().flatten():
        assert "x double>" in ir  # 4 or 8 voltages at once


class WhereGate(hc.Channel):
    """A test channel written with np.where, np.exp and np.expm1, a kinetic parameter, inf/tau."""

    name = "where_gate_test"
    parameters = {"gbar": hc.Param(0.01, "S/cm²", min=0.0), "e": hc.Param(-80.0, "mV"),
                  "vhalf": hc.Param(-50.0, "mV")}
    currents = {"i": hc.ohmic("e", lambda gbar, w: gbar * w)}

    @hc.inf_tau
    def w(v, vhalf):
        inf = np.where(v > vhalf, 1.0 - 0.5 * np.exp(-(v - vhalf) / 8.0), 0.5 * np.exp((v - vhalf) / 8.0))
        return inf, 1.0 + 4.0 / (1.0 + np.expm1((v + 40.0) / 15.0) + 1.0)


def test_where_exp_and_expm1_in_a_users_gate_compile_to_the_same_numbers():
    # The scalar forms (a select for np.where, vecmath's exp and expm1) against numpy's
    # array functions: round-off apart (rtol 1e-14, as test_kernels' channel check).
    v = np.r_[np.linspace(-250.0, 250.0, 2001), -50.0]
    gate = WhereGate.spec().gates[0]
    jitted = kernels._jit_tree(gate.func, {})
    want = [np.array([float(np.asarray(a)) for a in gate.func(x, -50.0)]) for x in v]
    got = [np.array(jitted(x, -50.0)) for x in v]
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


def test_users_channel_on_exact_rates_runs_as_numpy():
    def run(backend):
        cell = hc.Cell(hc.Morphology.cable(500.0, 2.0), celsius=6.3, max_segment=10.0)
        cell.insert(hc.HH(use_table=False))
        cell.insert(WhereGate(gbar=0.002, vhalf=-45.0, use_table=False))
        sim = hc.Simulation(cell, dt=0.01, backend=backend)
        sim.iclamp(at=0.0, delay=0.5, dur=0.5, amp=1.0)
        sim.probe("v", at=0.5)
        sim.probe("w", at=0.5, var="where_gate_test.w")
        return sim.run(5.0)

    a, b = run("numpy"), run("numba")
    assert a["v"].max() > 0.0  # a spike: the rates cover their whole range
    # Round-off apart, amplified by the spike's upstroke (test_kernels.RUN_ATOL_MV's reason).
    np.testing.assert_allclose(b.traces, a.traces, rtol=0, atol=1e-8)
