TITLE Connor-Stevens transient A-type potassium current (reference for hhcable's KACS)

COMMENT
Connor, Walter & McKown (1977), in the form of Dayan & Abbott (2001), section 6.2: steady
states and time constants given directly.  Written for hhcable's tests from the published
equations.  No TABLE.
ENDCOMMENT

NEURON {
    SUFFIX ka_cs
    NONSPECIFIC_CURRENT ika
    RANGE gkabar, ea
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gkabar = 0.0477 (S/cm2)
    ea = -75 (mV)
}

ASSIGNED {
    v (mV)
    ika (mA/cm2)
    ainf
    binf
    atau (ms)
    btau (ms)
}

STATE { a b }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ika = gkabar * a * a * a * b * (v - ea)
}

INITIAL {
    rates(v)
    a = ainf
    b = binf
}

DERIVATIVE states {
    rates(v)
    a' = (ainf - a) / atau
    b' = (binf - b) / btau
}

PROCEDURE rates(v (mV)) {
    UNITSOFF
    ainf = pow(0.0761 * exp(0.0314 * (v + 94.22)) / (1 + exp(0.0346 * (v + 1.17))), 1.0 / 3.0)
    atau = 0.3632 + 1.158 / (1 + exp(0.0497 * (v + 55.96)))
    binf = pow(1 / (1 + exp(0.0688 * (v + 53.3))), 4)
    btau = 1.24 + 2.678 / (1 + exp(0.0624 * (v + 50)))
    UNITSON
}
