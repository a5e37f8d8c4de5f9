"""One query's curve: the twin of clear_fast/_solver/curve.pyx and curve.pxd.

Conventions shared with the kernel
----------------------------------
* ``form`` is 0 for the shifted surge and 1 for the cumulative surge.
* ``scale`` (``a`` for one query) is ``weight * alpha``, the weighted slope at
  onset; ``x = b - tau`` are the tokens of a grant ``b`` past the threshold.
* Entry points take each query's ``min_tokens`` and ``max_tokens``; a funded
  grant lies in ``[lower, upper] = [ceil(max(tau, min_tokens)), floor(max_tokens)]``
  (``upper`` may be inf).
* Inputs are trusted: validation happens in the Python layer.

The mathematics
---------------
Surge ``u(x) = a x exp(-beta x)``; cumulative ``u(x) = a/beta^2 (1 - (1 + beta x) exp(-beta x))``.
The best grant at a price ``lam`` maximises ``u(b - tau) - lam b`` over ``[lower, upper]``:

* surge: ``x = (1 - W0(e lam / a)) / beta`` for ``lam < a`` (0 beyond), clipped;
* cumulative: the concave-side root ``x = -W_{-1}(-lam beta / a) / beta`` for
  ``lam < a/(beta e)``, compared with the left end ``lower``.

Differentiating the optimality condition ``u'(x) = lam`` gives the slope of
an interior best grant, ``db/dlam = -w / (lam beta (1 + w))`` with ``w`` the
Lambert W value above.

The break-even price is the steepest ray from the origin that touches the curve,
``max_b u(b - tau)/b`` over the bounds: above it the best surplus is negative and
the query is abandoned. With ``t = beta tau`` the surge's tangent point is
``tau + (1 - w)/beta`` with ``w = 1 / (1 + t/2 + sqrt(t + t^2/4))``; the
cumulative's is ``tau + y/beta`` with ``e^y = 1 + y + y^2 + t y``.
"""

from __future__ import annotations

import math

from .lambert import INV_E, cumulative_root, lambert_w0

SURGE = 0
CUMULATIVE = 1


def utility_past_threshold(form: int, a: float, beta: float, x: float) -> float:
    """Utility ``x`` tokens past the threshold."""
    if x <= 0.0:
        return 0.0
    if form == SURGE:
        return a * x * math.exp(-beta * x)
    y = beta * x
    return a / (beta * beta) * (-math.expm1(-y) - y * math.exp(-y))


def utility_at(form, tau, a, beta, b):
    """Utility of a grant of ``b`` tokens (which may be inf: the curve's limit)."""
    if math.isinf(b):
        return a / (beta * beta) if form == CUMULATIVE else 0.0
    return utility_past_threshold(form, a, beta, b - tau)


def best_grant(form, tau, a, beta, lower, upper, lam):
    """Best grant in ``[lower, upper]`` at price ``lam`` (ignoring the option to abandon)."""
    if form == SURGE:
        if lam >= a:
            x = 0.0
        else:
            x = (1.0 - lambert_w0(math.e * lam / a)) / beta
        return min(max(tau + x, lower), upper)
    if lam <= 0.0:
        return upper
    z = -lam * beta / a
    if z <= -INV_E:
        return lower
    b = min(max(tau - cumulative_root(lam, beta, a) / beta, lower), upper)
    # The cumulative curve is convex before its inflection, so the left end can beat the concave-side
    # root; it is taken only when it is worth funding at this price. When nothing is (a query forced in
    # above its break-even price), the concave-side root is the one that satisfies the optimality conditions.
    surplus_lower = utility_at(form, tau, a, beta, lower) - lam * lower
    if b > lower and surplus_lower > 0.0 and surplus_lower > utility_at(form, tau, a, beta, b) - lam * b:
        return lower
    return b


def best_grant_slope(form, tau, a, beta, lower, upper, lam, b):
    """d b / d lam at an interior best response (0 where a bound binds)."""
    if lam <= 0.0 or b <= lower or b >= upper:
        return 0.0
    if form == SURGE:
        if lam >= a:
            return 0.0
        w = lambert_w0(math.e * lam / a)
    else:
        w = cumulative_root(lam, beta, a)
    if w == -1.0:
        return 0.0
    return -(w / lam) / (beta * (1.0 + w))  # (w / lam first: lam * beta can underflow to 0)


def tangent_point(form, tau, beta):
    """Unconstrained tokens where the ray from the origin touches the curve."""
    t = beta * tau
    if form == SURGE:
        w_bar = 1.0 / (1.0 + 0.5 * t + math.sqrt(t + 0.25 * t * t))
        return tau + (1.0 - w_bar) / beta
    # cumulative: solve exp(y) = 1 + y + y^2 + t y for y > 1 (Newton on phi(y) = y - log(...))
    y = 2.0 + 1.5 * math.log1p(t)
    for _ in range(100):
        g = 1.0 + y + y * y + t * y
        phi = y - math.log(g)
        dphi = 1.0 - (1.0 + 2.0 * y + t) / g
        step = phi / dphi
        y_next = y - step
        if y_next <= 1.0:
            y_next = 0.5 * (y + 1.0)
        if abs(y_next - y) <= 1e-14 * y:
            y = y_next
            break
        y = y_next
    return tau + y / beta


def _breakeven_one(form, tau, a, beta, lower, upper):
    """Break-even price of one query and the grant where it is reached (0, 0 if never fundable)."""
    if lower > upper or a <= 0.0:
        return 0.0, 0.0
    b = min(max(tangent_point(form, tau, beta), lower), upper)
    if b <= 0.0:  # only the surge with tau = 0 and no minimum: the ray's slope is the onset slope
        return a, 0.0
    return utility_at(form, tau, a, beta, b) / b, b


def utility(form, tau, scale, beta, tokens, out):
    """``out[i] = u_i(tokens[i])`` (0 below the threshold)."""
    for i in range(len(tau)):
        out[i] = utility_at(form, tau[i], scale[i], beta[i], tokens[i])


def grant_bounds(tau, min_tokens, max_tokens):
    """Whole-token bounds of the funded grants: ``ceil(max(tau, min_tokens))`` and ``floor(max_tokens)``."""
    lower = [float(math.ceil(max(t, lo))) for t, lo in zip(tau, min_tokens)]
    upper = [math.inf if math.isinf(hi) else float(math.floor(hi)) for hi in max_tokens]
    return lower, upper


def breakeven(form, tau, scale, beta, min_tokens, max_tokens, price_out, tangent_out):
    """Break-even price and the tokens where it is reached, per query (0, 0 if never fundable)."""
    lower, upper = grant_bounds(tau, min_tokens, max_tokens)
    for i in range(len(tau)):
        price_out[i], tangent_out[i] = _breakeven_one(form, tau[i], scale[i], beta[i], lower[i], upper[i])


def demand(form, tau, scale, beta, min_tokens, max_tokens, breakeven_price, lam, tokens_out):
    """Best responses at price ``lam`` of the queries whose break-even price exceeds it.

    Returns ``(total, slope)``: summed demand and its derivative in ``lam``.
    """
    lower, upper = grant_bounds(tau, min_tokens, max_tokens)
    total = 0.0
    slope = 0.0
    for i in range(len(tau)):
        if breakeven_price[i] > lam:
            b = best_grant(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam)
            tokens_out[i] = b
            total += b
            slope += best_grant_slope(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam, b)
        else:
            tokens_out[i] = 0.0
    return total, slope


def floor_grants(form, tau, scale, beta, max_tokens, continuous, tokens_out, gains_out):
    """Round funded grants down; returns ``(spent, utility)`` and each grant's gain from one more token.

    ``gains_out`` is -inf for unfunded queries and for grants at their cap.
    """
    spent = value = 0.0
    for i in range(len(tau)):
        if continuous[i] > 0.0:
            t = float(math.floor(continuous[i] + 1e-9))
            u = utility_at(form, tau[i], scale[i], beta[i], t)
            tokens_out[i] = t
            spent += t
            value += u
            gains_out[i] = utility_at(form, tau[i], scale[i], beta[i], t + 1.0) - u if t + 1.0 <= max_tokens[i] else -math.inf
        else:
            tokens_out[i] = 0.0
            gains_out[i] = -math.inf
    return spent, value


def unit_gains(form, tau, scale, beta, max_tokens, tokens, out):
    """``out[i] = u_i(tokens[i] + 1) - u_i(tokens[i])`` for funded grants below their cap, else -inf."""
    for i in range(len(tau)):
        if tokens[i] > 0.0 and tokens[i] + 1.0 <= max_tokens[i]:
            out[i] = utility_at(form, tau[i], scale[i], beta[i], tokens[i] + 1.0) - utility_at(
                form, tau[i], scale[i], beta[i], tokens[i]
            )
        else:
            out[i] = -math.inf
