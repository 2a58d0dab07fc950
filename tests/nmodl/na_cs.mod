TITLE Connor-Stevens fast sodium current (reference for hhcable's NaCS)

COMMENT
Connor, Walter & McKown (1977) Biophys J 18:81, in the form of Dayan & Abbott (2001),
Theoretical Neuroscience, section 6.2; conductance in S/cm2.  Written for hhcable's tests
from the published equations.  No TABLE: rates are evaluated exactly at every step.
ENDCOMMENT

NEURON {
    SUFFIX na_cs
    NONSPECIFIC_CURRENT ina
    RANGE gnabar, ena
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gnabar = 0.12 (S/cm2)
    ena = 55 (mV)
}

ASSIGNED {
    v (mV)
    ina (mA/cm2)
    minf
    hinf
    mtau (ms)
    htau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ina = gnabar * m * m * m * h * (v - ena)
}

INITIAL {
    rates(v)
    m = minf
    h = hinf
}

DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}

PROCEDURE rates(v (mV)) {
    LOCAL a, b
    UNITSOFF
    a = 0.38 * vtrap(-(v + 29.7), 10)
    b = 15.2 * exp(-0.0556 * (v + 54.7))
    mtau = 1 / (a + b)
    minf = a * mtau
    a = 0.266 * exp(-0.05 * (v + 48))
    b = 3.8 / (1 + exp(-0.1 * (v + 18)))
    htau = 1 / (a + b)
    hinf = a * htau
    UNITSON
}

FUNCTION vtrap(x, y) {
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 - x / y / 2)
    } else {
        vtrap = x / (exp(x / y) - 1)
    }
}
