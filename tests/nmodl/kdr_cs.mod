TITLE Connor-Stevens delayed-rectifier potassium current (reference for hhcable's KdrCS)

COMMENT
Connor, Walter & McKown (1977), in the form of Dayan & Abbott (2001), section 6.2.  Written
for hhcable's tests from the published equations.  No TABLE.
ENDCOMMENT

NEURON {
    SUFFIX kdr_cs
    NONSPECIFIC_CURRENT ik
    RANGE gkbar, ek
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gkbar = 0.02 (S/cm2)
    ek = -72 (mV)
}

ASSIGNED {
    v (mV)
    ik (mA/cm2)
    ninf
    ntau (ms)
}

STATE { n }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gkbar * n * n * n * n * (v - ek)
}

INITIAL {
    rates(v)
    n = ninf
}

DERIVATIVE states {
    rates(v)
    n' = (ninf - n) / ntau
}

PROCEDURE rates(v (mV)) {
    LOCAL a, b
    UNITSOFF
    a = 0.02 * vtrap(-(v + 45.7), 10)
    b = 0.25 * exp(-0.0125 * (v + 55.7))
    ntau = 1 / (a + b)
    ninf = a * ntau
    UNITSON
}

FUNCTION vtrap(x, y) {
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}
