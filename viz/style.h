// style.h — the shared look of splatlm plots: ink colours and spacing, so line plots, heatmaps
// and dashboards sit together without each file inventing its own greys.
#pragma once
#include "viz/canvas.h"

namespace splatlm::viz::style {

inline constexpr Rgba kText{30, 30, 30, 255};        // titles, labels
inline constexpr Rgba kAxis{90, 90, 90, 255};        // frames, tick marks
inline constexpr Rgba kGrid{228, 228, 228, 255};     // grid lines behind data
inline constexpr Rgba kNote{170, 30, 30, 255};       // warnings drawn into a picture
inline constexpr Rgba kMaskInk{200, 200, 200, 255};  // hatching of masked heatmap cells
inline constexpr int kPad = 8;                        // outer margin and gaps, pixels
inline constexpr int kTickLen = 4;
inline constexpr int kTitleScale = 2;                 // titles are drawn at 2x, the rest at 1x

}  // namespace splatlm::viz::style
