// ticks.cpp — nice-number tick selection. Tick values are computed as k * step from integers k
// (never by repeated addition) so 0.1 + 0.1 + 0.1 style drift cannot produce 0.30000000000000004.
#include "viz/ticks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tensor/error.h"

namespace splatlm::viz {

namespace {

void check_range(const char* what, double lo, double hi) {
    SPLATLM_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, what, ": bad range [", lo,
                  ", ", hi, "]");
}

// Multiples of step within [lo, hi], with a small tolerance so ends that are whole steps count.
std::vector<double> multiples_within(double lo, double hi, double step) {
    const double eps = step * 1e-9;
    const double k0 = std::ceil((lo - eps) / step), k1 = std::floor((hi + eps) / step);
    std::vector<double> ticks;
    for (double k = k0; k <= k1 && ticks.size() < 1000; k += 1.0) {
        const double t = k * step;
        ticks.push_back(std::abs(t) < eps ? 0.0 : t);
    }
    return ticks;
}

Axis labelled(Axis axis, double step) {
    for (double t : axis.ticks) axis.labels.push_back(format_tick(t, axis.log ? t : step));
    return axis;
}

}  // namespace

void widen_degenerate(double& lo, double& hi) {
    if (lo < hi) return;
    const double pad = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
}

double nice_step(double span, int target) {
    SPLATLM_CHECK(std::isfinite(span) && span > 0 && target >= 1, "nice_step: span ", span,
                  " target ", target);
    const double raw = span / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double frac = raw / mag;  // in [1, 10)
    // The smallest nice multiple not below the raw step, so there are at most target + 1 ticks.
    for (double mult : {1.0, 2.0, 5.0})
        if (frac <= mult * (1 + 1e-9)) return mult * mag;
    return 10.0 * mag;
}

Axis linear_axis(double lo, double hi, int target_ticks) {
    check_range("linear_axis", lo, hi);
    widen_degenerate(lo, hi);
    const double step = nice_step(hi - lo, target_ticks);
    Axis axis;
    axis.lo = std::floor(lo / step + 1e-9) * step;
    axis.hi = std::ceil(hi / step - 1e-9) * step;
    axis.ticks = multiples_within(axis.lo, axis.hi, step);
    return labelled(std::move(axis), step);
}

Axis linear_ticks_within(double lo, double hi, int target_ticks) {
    check_range("linear_ticks_within", lo, hi);
    widen_degenerate(lo, hi);
    const double step = nice_step(hi - lo, target_ticks);
    Axis axis;
    axis.lo = lo;
    axis.hi = hi;
    axis.ticks = multiples_within(lo, hi, step);
    return labelled(std::move(axis), step);
}

Axis log_axis(double lo, double hi) {
    check_range("log_axis", lo, hi);
    SPLATLM_CHECK(lo > 0, "log_axis: range [", lo, ", ", hi, "] must be positive");
    int d0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
    int d1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
    if (d0 == d1) --d0, ++d1;  // a single exact power of ten: show the decades either side
    Axis axis;
    axis.log = true;
    axis.lo = std::pow(10.0, d0);
    axis.hi = std::pow(10.0, d1);
    const int decades = d1 - d0;
    const int every = std::max(1, (decades + 7) / 8);
    for (int d = d0; d <= d1; ++d) {
        if ((d - d0) % every != 0) continue;
        const double p = std::pow(10.0, d);
        axis.ticks.push_back(p);
        if (decades <= 2 && d < d1) axis.ticks.insert(axis.ticks.end(), {2 * p, 5 * p});
    }
    return labelled(std::move(axis), 0.0);
}

double percentile(std::vector<double> values, double p, double fallback) {
    if (values.empty()) return fallback;
    const std::size_t rank = std::min(values.size() - 1, std::size_t(std::ceil(p / 100.0 * double(values.size()))) - 1);
    std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(rank), values.end());
    return values[rank];
}

std::string format_tick(double v, double step) {
    if (v == 0.0) return "0";
    if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : v > 0 ? "Inf" : "-Inf";
    char buf[64];
    if (!std::isfinite(step) || step == 0.0) {  // no usable spacing: six significant digits
        std::snprintf(buf, sizeof buf, "%g", v);
        return buf;
    }
    const double mag = std::abs(v);
    const int step_exp = static_cast<int>(std::floor(std::log10(std::abs(step)) + 1e-9));
    if (mag >= 1e5 || mag < 1e-3) {
        // Mantissa digits: enough to tell neighbouring ticks apart.
        const int v_exp = static_cast<int>(std::floor(std::log10(mag) + 1e-9));
        std::snprintf(buf, sizeof buf, "%.*e", std::clamp(v_exp - step_exp, 0, 12), v);
        std::string s = buf;  // e.g. "2.50e-05" → "2.5e-5", "1.0e+06" → "1e6"
        const auto e = s.find('e');
        std::string mant = s.substr(0, e), exp = s.substr(e + 1);
        if (mant.find('.') != std::string::npos) {
            mant.erase(mant.find_last_not_of('0') + 1);
            if (mant.back() == '.') mant.pop_back();
        }
        const bool neg = exp[0] == '-';
        exp = exp.substr(1);
        exp.erase(0, std::min(exp.find_first_not_of('0'), exp.size() - 1));
        return mant + "e" + (neg ? "-" : "") + exp;
    }
    std::snprintf(buf, sizeof buf, "%.*f", std::clamp(-step_exp, 0, 12), v);
    return buf;
}

}  // namespace splatlm::viz
