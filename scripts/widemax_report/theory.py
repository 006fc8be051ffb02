"""The numbers of the main theorem of "Exploring the Frontiers of Softmax" (arXiv 2405.03251) for
the data at hand, printed beside what the width experiments measure (experiments/README.md).

The statement used is the one of docs/design.md §3.1 (read without the paper's text at hand): for n samples in d dimensions with
||x_i|| <= 1, lambda = lambda_min of the limiting NTK, failure probability delta and
B = max(sigma sqrt(2 log(n d m / delta)), 1) (the bound on |<w_r, x_i>| at init, here with its
smallest value, B = 1), the theorem asks for

    width  m   >= lambda^-2 n^2 d^2 exp(18 B) log^2(n d / delta),
    rate   eta  = 0.1 lambda / (m n^2 d^2 exp(16 B)),
    radius R    = lambda / (n d exp(10 B))         (every neuron stays within R of its init),

with every constant that the O() and Omega() hide set to 1. These were read from the paper's
statement without its text at hand in this environment, so each is one function here: correct it
in one place. What it deliberately does not do: claim the constants (the gap between bound and
practice is reported in decades, which a constant of order 1 does not change).
"""
import math

DELTA = 0.1
B = 1.0


def width_required(n, d, lam, delta=DELTA, b=B):
    return lam ** -2 * n ** 2 * d ** 2 * math.exp(18 * b) * math.log(n * d / delta) ** 2


def rate(n, d, lam, m, b=B):
    return 0.1 * lam / (m * n ** 2 * d ** 2 * math.exp(16 * b))


def radius(n, d, lam, b=B):
    return lam / (n * d * math.exp(10 * b))


def numbers(n, d, lam):
    """The theorem's width, rate (at that width) and radius for this (n, d, lambda)."""
    m = width_required(n, d, lam)
    return {"m_theorem": m, "eta_theorem": rate(n, d, lam, m), "R_theorem": radius(n, d, lam)}
