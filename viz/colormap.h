// colormap.h — numbers to colours.
//
// Sequential data (attention weights, losses, splat densities) uses viridis: perceptually
// uniform, monotone in lightness, and readable with the common colour-vision deficiencies.
// Signed data centred on zero (gradients, differences) uses a diverging blue–white–red map.
// Series and splat ids use a categorical palette of 10 distinct hues. Values outside [0, 1] clamp
// to the ends; NaN maps to kMissing, a magenta that appears in neither continuous map.
#pragma once
#include <cstddef>

#include "viz/canvas.h"

namespace splatlm::viz {

enum class Colormap {
    viridis,    // dark purple (0) → blue → green → yellow (1)
    diverging,  // dark blue (0) → white (0.5) → dark red (1)
};

inline constexpr Rgba kMissing{255, 0, 255, 255};

// Colour for t in [0, 1] (clamped; NaN → kMissing).
Rgba map_color(Colormap map, double t);

// The i-th categorical colour; ids past the palette wrap around.
Rgba categorical(std::size_t i);
inline constexpr std::size_t kCategoricalCount = 10;

}  // namespace splatlm::viz
