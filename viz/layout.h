// layout.h — dashboards: several pictures composed into one grid image, each under its title.
//
// Panels fill the grid row by row. Each column is as wide as its widest panel, each row as tall
// as its tallest (plus the title line); each panel sits at the top of its cell, centred
// horizontally, so panels of different sizes still line up. Panel titles are drawn at 2x, the dashboard title at 3x.
#pragma once
#include <string>
#include <vector>

#include "viz/canvas.h"

namespace splatlm::viz {

struct Panel {
    std::string title;  // drawn above the panel; may be empty
    Canvas image;
};

// Throws splatlm::Error for no panels or columns < 1. `title` (optional) heads the whole image.
Canvas compose_grid(const std::vector<Panel>& panels, int columns, const std::string& title = "");

// The picture with a caption under it: lines of text saying how to read it, left-aligned under
// the picture (the canvas widens when a line is longer than the picture).
Canvas with_caption(const Canvas& picture, const std::vector<std::string>& lines);

// Lines of text on a white canvas just large enough for them (with a margin): a panel for model
// summaries and notes. An empty list gives a small blank canvas.
Canvas text_block(const std::vector<std::string>& lines, int scale = 1);

}  // namespace splatlm::viz
