"""exp, expm1, cbrt and where that compiled loops can vectorise: plain arithmetic, no branches, no calls.

numba compiles ``math.exp`` and ``np.exp`` to calls into the C library, one number at a
time: about 3 ns each for exp and 10 ns for expm1 (glibc), and no loop that calls them is
vectorised.  (LLVM would call Intel's SVML vector library instead, but only in an llvmlite
built with SVML support, which the PyPI wheels are not, so installing Intel's icc_rt does
not help.)  The functions here compute the same values with multiplications and additions
only, emitted in place as LLVM instructions (numba intrinsics), so LLVM runs a loop of rate
functions on 4 or 8 voltages at once.

The method is the classic one (Cody & Waite, as in fdlibm): ``x = k ln 2 + r`` with ``k``
the nearest integer to ``x / ln 2`` and ``|r| <= ln(2)/2``; ``expm1(r)`` by its Taylor
series to the ``r**13`` term (the next term is below 5e-18 there); ``2**k`` assembled in the
exponent bits.  Measured against the C library on 500,000 arguments over the whole range
(and at 0, ±inf, NaN, the overflow and underflow edges): at most 1 unit in the last place
for exp, 2 for expm1.  ``expm1`` keeps its full relative accuracy near zero, where
``exp(x) - 1`` would not.

Only for compiled code: the numpy path uses numpy's own functions.  :mod:`hhcable.kernels`
compiles a channel's ``np.exp``, ``np.expm1``, ``np.cbrt`` and ``np.where`` as these.
"""

import math

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

#: log2(e), and ln 2 split in two so that ``k * LN2_HI`` is exact for |k| < 2**11 (fdlibm).
LOG2E = 1.4426950408889634
LN2_HI, LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
#: 1.5 * 2**52: adding it rounds a number below 2**51 to an integer, kept in the low bits.
SHIFTER = 6755399441055744.0
#: Arguments are clamped to this range: beyond it exp is 0 (below) or inf (above) anyway.
X_MIN, X_MAX = -746.0, 710.0
#: Above this, expm1(x) = exp(x) in double precision (and 2**k alone may overflow).
EXPM1_IS_EXP = 700.0
#: Exponent bias and position of IEEE 754 doubles.
BIAS, MANTISSA_BITS = 1023, 52
#: Cube root: below 2**-900 the argument is scaled by 2**(3 * 54) first; fdlibm's bias of
#: the exponent-thirds guess (its high word 715094163, as 64 bits).
CBRT_TINY_BITS, CBRT_SCALE_BITS, CBRT_BIAS = 900, 54, 715094163 << 32
#: Taylor coefficients of expm1 after the linear term: 1/2!, 1/3!, ..., 1/13!.
C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13 = (1.0 / math.factorial(k) for k in range(2, 14))
#: What compiled loops that inline these functions are compiled with: divisions by zero give
#: inf or NaN as in numpy (not ZeroDivisionError); a * b + c may be one fused multiply-add
#: (one rounding instead of two); x / c may be x * (1 / c) (within an ulp of the quotient;
#: the rate functions divide by constants, and a vector division costs ~10 multiplications).
#: No other fast-math: NaN and inf keep their meaning (the engine detects non-finite
#: voltages) and no sum is reordered.
JIT_OPTIONS = {"error_model": "numpy", "fastmath": {"contract", "arcp"}}


def _fmuladd(builder):
    """LLVM's ``a * b + c``, one fused operation where the CPU has FMA (two roundings where not)."""
    dbl = ir.DoubleType()
    return builder.module.declare_intrinsic("llvm.fmuladd", [dbl], ir.FunctionType(dbl, [dbl, dbl, dbl]))


def _reduce(builder, x):
    """LLVM instructions for ``(s1, s2, p)`` with ``exp(x) = s1 s2 (1 + p)``, |p| < 0.42.

    Written as instructions (not as a jitted function that numba would inline) because
    numba's inlining of small functions costs more compile time than the whole kernel
    otherwise does.  ``fmuladd`` is a multiply-add fused where the CPU has FMA.
    """
    dbl, i64 = ir.DoubleType(), ir.IntType(64)
    fmuladd = _fmuladd(builder)

    def const(value):
        return ir.Constant(dbl, value)

    def madd(a, b, c):
        return builder.call(fmuladd, [a, b, c])

    # Clamped (a NaN passes both comparisons untouched and comes out NaN).
    x = builder.select(builder.fcmp_ordered(">", x, const(X_MAX)), const(X_MAX), x)
    x = builder.select(builder.fcmp_ordered("<", x, const(X_MIN)), const(X_MIN), x)
    t = madd(x, const(LOG2E), const(SHIFTER))  # k in the low bits of t
    kf = builder.fsub(t, const(SHIFTER))
    r = madd(kf, const(-LN2_HI), x)
    r = madd(kf, const(-LN2_LO), r)
    p = const(C13)
    for coefficient in (C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2):
        p = madd(r, p, const(coefficient))
    p = madd(builder.fmul(r, r), p, r)
    # 2**k in two halves, so that 2**k below the normal range still rounds gradually to 0.
    k = builder.sub(builder.bitcast(t, i64), builder.bitcast(const(SHIFTER), i64))
    half = builder.ashr(k, ir.Constant(i64, 1))

    def power_of_two(n):
        return builder.bitcast(builder.shl(builder.add(n, ir.Constant(i64, BIAS)), ir.Constant(i64, MANTISSA_BITS)),
                               dbl)

    return power_of_two(half), power_of_two(builder.sub(k, half)), p


def _scale(builder, s1, s2, p):
    """``exp(x) = (1 + p) s1 s2``: the second scaling last, for gradual underflow."""
    return builder.fmul(builder.fmul(builder.fadd(ir.Constant(p.type, 1.0), p), s1), s2)


def _expm1(builder, x, s, p, e):
    """``expm1(x) = s p + (s - 1)`` (s = 2**k; s - 1 exact where it matters), or ``e - 1`` for large x."""
    fmuladd = _fmuladd(builder)
    one = ir.Constant(x.type, 1.0)
    small = builder.call(fmuladd, [s, p, builder.fsub(s, one)])
    return builder.select(builder.fcmp_ordered(">", x, ir.Constant(x.type, EXPM1_IS_EXP)), builder.fsub(e, one), small)


@intrinsic
def exp(typingctx, x):
    """e**x (float -> float), vectorisable; NaN gives NaN."""
    def codegen(context, builder, signature, args):
        return _scale(builder, *_reduce(builder, args[0]))

    return types.float64(types.float64), codegen


@intrinsic
def expm1(typingctx, x):
    """e**x - 1 (float -> float), accurate near 0, vectorisable; NaN gives NaN."""
    def codegen(context, builder, signature, args):
        s1, s2, p = _reduce(builder, args[0])
        return _expm1(builder, args[0], builder.fmul(s1, s2), p, _scale(builder, s1, s2, p))

    return types.float64(types.float64), codegen


@intrinsic
def exp_expm1(typingctx, x):
    """``(exp(x), expm1(x))`` from one reduction (an exponential-Euler step needs both).

    Cheaper than :func:`exp` by scaling with ``2**k`` in one factor, which overflows for
    ``x`` above 709.09 (``2**1023.5``): there both are inf, where e**x itself overflows
    only above 709.78.  Exponential-Euler steps use ``x <= 0``.
    """
    def codegen(context, builder, signature, args):
        x = args[0]
        s1, s2, p = _reduce(builder, x)
        s = builder.fmul(s1, s2)
        e = builder.fmul(s, builder.fadd(ir.Constant(x.type, 1.0), p))
        return context.make_tuple(builder, signature.return_type, (e, _expm1(builder, x, s, p, e)))

    return types.UniTuple(types.float64, 2)(types.float64), codegen


def _cbrt(builder, x):
    """LLVM instructions for the cube root: a guess from the exponent bits (a third of them,
    as fdlibm's cbrt; accurate to ~5 bits), then three Halley steps
    ``y -= y (y³ - a) / (2y³ + a)``, each tripling the correct bits (5, 15, 45, beyond 53).
    The steps are written with y³/4 so that nothing overflows up to the largest double;
    arguments below 2**-900 are scaled by 2**162 first (and the root back by 2**-54)."""
    dbl, i64 = ir.DoubleType(), ir.IntType(64)
    fabs = builder.module.declare_intrinsic("llvm.fabs", [dbl])
    copysign = builder.module.declare_intrinsic("llvm.copysign", [dbl], ir.FunctionType(dbl, [dbl, dbl]))

    def const(value):
        return ir.Constant(dbl, value)

    a = builder.call(fabs, [x])
    tiny = builder.fcmp_ordered("<", a, const(2.0 ** -CBRT_TINY_BITS))
    a = builder.select(tiny, builder.fmul(a, const(2.0 ** (3 * CBRT_SCALE_BITS))), a)
    guess = builder.add(builder.udiv(builder.bitcast(a, i64), ir.Constant(i64, 3)), ir.Constant(i64, CBRT_BIAS))
    y = builder.bitcast(guess, dbl)
    quarter_a = builder.fmul(a, const(0.25))
    for _ in range(3):
        quarter_cube = builder.fmul(builder.fmul(y, y), builder.fmul(y, const(0.25)))
        ratio = builder.fdiv(builder.fsub(quarter_cube, quarter_a),
                             builder.fadd(builder.fadd(quarter_cube, quarter_cube), quarter_a))
        y = builder.fsub(y, builder.fmul(y, ratio))
    y = builder.select(tiny, builder.fmul(y, const(2.0 ** -CBRT_SCALE_BITS)), y)
    root = builder.call(copysign, [y, x])
    # 0, inf and NaN are their own cube roots.
    plain = builder.or_(builder.fcmp_unordered("uno", x, x),
                        builder.or_(builder.fcmp_ordered("==", a, const(0.0)),
                                    builder.fcmp_ordered("==", a, const(math.inf))))
    return builder.select(plain, x, root)


@intrinsic
def cbrt(typingctx, x):
    """The real cube root (float -> float), vectorisable; 0, ±inf and NaN give themselves."""
    def codegen(context, builder, signature, args):
        return _cbrt(builder, args[0])

    return types.float64(types.float64), codegen


@numba.njit(inline="always", **JIT_OPTIONS)
def where(condition, x, y):
    """``np.where`` for one number, as a select (numba's ``np.where`` of scalars makes an array)."""
    return x if condition else y
