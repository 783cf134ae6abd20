// ticks.h — choosing axis ranges and tick values a person would choose, and printing them.
//
// "Nice" ticks are multiples of a step of the form {1, 2, 5} x 10^k, picked so that about
// `target` ticks cover the data: a range of 0.013..0.87 gets ticks 0, 0.2, 0.4, ... 1.0 rather
// than 0.013, 0.1844, .... A linear axis grows its range outwards to whole steps; a log axis
// grows it to whole decades. Degenerate ranges (a constant series, a single point) are widened
// around the value so there is always something to draw.
#pragma once
#include <string>
#include <vector>

namespace splatlm::viz {

struct Axis {
    double lo = 0, hi = 1;      // the drawn range, lo < hi (for log axes: the values, not logs)
    std::vector<double> ticks;  // ascending, all inside [lo, hi]
    std::vector<std::string> labels;  // one per tick
    bool log = false;
};

// Widens [lo, hi] when lo == hi: by 10% of |lo| either side, or to [-1, 1] around zero.
void widen_degenerate(double& lo, double& hi);

// A linear axis covering [lo, hi] (finite, lo <= hi), extended outward to whole steps.
Axis linear_axis(double lo, double hi, int target_ticks = 6);

// Ticks for [lo, hi] that stay inside it (the range is kept as is; used by colour bars).
Axis linear_ticks_within(double lo, double hi, int target_ticks = 5);

// A log10 axis covering [lo, hi] (0 < lo <= hi), extended outward to powers of ten. Spans of at
// most two decades also get ticks at 2x and 5x; wide spans label every k-th decade.
Axis log_axis(double lo, double hi);

// The p-th percentile (0 < p <= 100, nearest rank) of the values, for robust colour ranges; `fallback`
// when there are none.
double percentile(std::vector<double> values, double p, double fallback);

// The {1,2,5} x 10^k step closest to span / target.
double nice_step(double span, int target);

// Short label for tick value v on an axis whose ticks are `step` apart: as many decimals as the
// step needs, no "-0", and scientific notation ("2.5e-5", "1e6") when plain would be long.
// A zero or non-finite step prints v with %g; non-finite v prints as NaN / Inf / -Inf.
std::string format_tick(double v, double step);

}  // namespace splatlm::viz
