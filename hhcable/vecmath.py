"""exp, expm1 and where that compiled loops can vectorise: plain arithmetic, no branches, no calls.

numba compiles ``math.exp`` and ``np.exp`` to calls into the C library, one number at a
time: about 3 ns each for exp and 10 ns for expm1 (glibc), and no loop that calls them is
vectorised.  (LLVM would call Intel's SVML vector library instead, but only in an llvmlite
built with SVML support, which the PyPI wheels are not.)  The functions here compute the
same values with multiplications and additions only, so LLVM inlines them and runs a loop
of rate functions on 4 or 8 voltages at once.

The method is the classic one (Cody & Waite, as in fdlibm): ``x = k ln 2 + r`` with ``k``
the nearest integer to ``x / ln 2`` and ``|r| <= ln(2)/2``; ``expm1(r)`` by its Taylor
series to the ``r**13`` term (the next term is below 5e-18 there); ``2**k`` assembled in the
exponent bits.  Measured against the C library on 500,000 arguments over the whole range
(and at 0, ±inf, NaN, the overflow and underflow edges): at most 1 unit in the last place
for exp, 2 for expm1.  ``expm1`` keeps its full relative accuracy near zero, where
``exp(x) - 1`` would not.

Only for compiled code: the numpy path uses numpy's own functions.
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
#: Taylor coefficients of expm1 after the linear term: 1/2!, 1/3!, ..., 1/13!.
C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13 = (1.0 / math.factorial(k) for k in range(2, 14))
#: What compiled loops that inline these functions are compiled with: divisions by zero give
#: inf or NaN as in numpy (not ZeroDivisionError), and a * b + c may be one fused
#: multiply-add (one rounding instead of two).  No other fast-math: NaN and inf keep their
#: meaning (the engine detects non-finite voltages) and no sum is reordered.
JIT_OPTIONS = {"error_model": "numpy", "fastmath": {"contract"}}


@intrinsic
def _double_bits(typingctx, x):
    """The 64 bits of a double as an int64 (no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_double(typingctx, x):
    """The double whose 64 bits are this int64 (no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@numba.njit(inline="always", **JIT_OPTIONS)
def _reduce(x):
    """``(s1, s2, p)`` with ``exp(x) = s1 s2 (1 + p)``: s1, s2 powers of two, |p| < 0.42."""
    x = X_MAX if x > X_MAX else x
    x = X_MIN if x < X_MIN else x
    t = x * LOG2E + SHIFTER
    kf = t - SHIFTER
    r = (x - kf * LN2_HI) - kf * LN2_LO
    p = C12 + r * C13
    p = C11 + r * p
    p = C10 + r * p
    p = C9 + r * p
    p = C8 + r * p
    p = C7 + r * p
    p = C6 + r * p
    p = C5 + r * p
    p = C4 + r * p
    p = C3 + r * p
    p = C2 + r * p
    p = r + (r * r) * p
    # 2**k in two halves, so that 2**k below the normal range still rounds gradually to 0.
    k = _double_bits(t) - _double_bits(SHIFTER)
    half = k >> 1
    s1 = _bits_double((half + BIAS) << MANTISSA_BITS)
    s2 = _bits_double((k - half + BIAS) << MANTISSA_BITS)
    return s1, s2, p


@numba.njit(inline="always", **JIT_OPTIONS)
def exp(x):
    """e**x (float -> float), vectorisable; NaN gives NaN."""
    s1, s2, p = _reduce(x)
    return (1.0 + p) * s1 * s2


@numba.njit(inline="always", **JIT_OPTIONS)
def exp_expm1(x):
    """``(exp(x), expm1(x))`` from one reduction (an exponential-Euler step needs both).

    Cheaper than :func:`exp` by scaling with ``2**k`` in one factor, which overflows for
    ``x`` above 709.09 (``2**1023.5``): there both are inf, where e**x itself overflows
    only above 709.78.  Exponential-Euler steps use ``x <= 0``.
    """
    s1, s2, p = _reduce(x)
    s = s1 * s2
    e = s * (1.0 + p)
    m = s * p + (s - 1.0)  # s - 1 is exact for the k where it matters
    return e, (e - 1.0 if x > EXPM1_IS_EXP else m)


@numba.njit(inline="always", **JIT_OPTIONS)
def expm1(x):
    """e**x - 1 (float -> float), accurate near 0, vectorisable; NaN gives NaN."""
    s1, s2, p = _reduce(x)
    s = s1 * s2
    return (1.0 + p) * s1 * s2 - 1.0 if x > EXPM1_IS_EXP else s * p + (s - 1.0)


@numba.njit(inline="always", **JIT_OPTIONS)
def where(condition, x, y):
    """``np.where`` for one number, as a select (numba's ``np.where`` of scalars makes an array)."""
    return x if condition else y
