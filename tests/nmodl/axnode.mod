: Node of Ranvier of McIntyre, Richardson & Grill (2002), J Neurophysiol 87:995, written for
: hhcable's tests from the paper's equations: fast Na (m3h), persistent Na (mp3), slow K (s),
: leak.  Sodium rates fitted at 20 degC (Q10 2.2 for mp and m, 2.9 for h), potassium at
: 36 degC (Q10 3).

NEURON {
    SUFFIX axnode
    NONSPECIFIC_CURRENT ina, inap, ik, il
    RANGE gnabar, gnapbar, gkbar, gl, ena, ek, el
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
}

PARAMETER {
    gnabar = 3.0 (S/cm2)
    gnapbar = 0.01 (S/cm2)
    gkbar = 0.08 (S/cm2)
    gl = 0.007 (S/cm2)
    ena = 50.0 (mV)
    ek = -90.0 (mV)
    el = -90.0 (mV)
}

ASSIGNED {
    v (mV)
    celsius (degC)
    ina (mA/cm2)
    inap (mA/cm2)
    ik (mA/cm2)
    il (mA/cm2)
    qna_m (1)
    qna_h (1)
    qk (1)
}

STATE { m h mp s }

INITIAL {
    qna_m = 2.2^((celsius - 20)/10)
    qna_h = 2.9^((celsius - 20)/10)
    qk = 3.0^((celsius - 36)/10)
    m = ainf(amf(v), bmf(v))
    h = ainf(ahf(v), bhf(v))
    mp = ainf(ampf(v), bmpf(v))
    s = ainf(asf(v), bsf(v))
}

BREAKPOINT {
    SOLVE gates METHOD cnexp
    ina = gnabar*m*m*m*h*(v - ena)
    inap = gnapbar*mp*mp*mp*(v - ena)
    ik = gkbar*s*(v - ek)
    il = gl*(v - el)
}

DERIVATIVE gates {
    m' = qna_m*(amf(v)*(1 - m) - bmf(v)*m)
    h' = qna_h*(ahf(v)*(1 - h) - bhf(v)*h)
    mp' = qna_m*(ampf(v)*(1 - mp) - bmpf(v)*mp)
    s' = qk*(asf(v)*(1 - s) - bsf(v)*s)
}

FUNCTION ainf(a, b) { ainf = a/(a + b) }

: x / (1 - exp(-x/k)), with its value k at x = 0
FUNCTION lin(x, k) {
    if (fabs(x/k) < 1e-7) {
        lin = k*(1 + x/k/2)
    } else {
        lin = x/(1 - exp(-x/k))
    }
}

FUNCTION ampf(v (mV)) { ampf = 0.01*lin(v + 27, 10.2) }
FUNCTION bmpf(v (mV)) { bmpf = 0.00025*lin(-(v + 34), 10) }
FUNCTION amf(v (mV)) { amf = 1.86*lin(v + 21.4, 10.3) }
FUNCTION bmf(v (mV)) { bmf = 0.086*lin(-(v + 25.7), 9.16) }
FUNCTION ahf(v (mV)) { ahf = 0.062*lin(-(v + 114), 11) }
FUNCTION bhf(v (mV)) { bhf = 2.3/(1 + exp(-(v + 31.8)/13.4)) }
: the potassium rates in Traub's convention, v relative to -80 mV
FUNCTION asf(v (mV)) { asf = 0.3/(1 + exp(-(v + 80 - 27)/5)) }
FUNCTION bsf(v (mV)) { bsf = 0.03/(1 + exp(-(v + 80 + 10))) }
