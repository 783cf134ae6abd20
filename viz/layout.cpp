// layout.cpp — grid composition: measure the largest panel, size the grid, blit each panel
// (alpha-composited with Canvas::draw_canvas) centred in its cell with its title above.
#include "viz/layout.h"

#include <algorithm>

#include "tensor/error.h"
#include "viz/font.h"
#include "viz/style.h"

namespace splatlm::viz {

namespace {
constexpr int kPanelTitleScale = 2;
constexpr int kHeadScale = 3;
}  // namespace

Canvas compose_grid(const std::vector<Panel>& panels, int columns, const std::string& title) {
    using namespace style;
    SPLATLM_CHECK(!panels.empty(), "compose_grid: no panels");
    SPLATLM_CHECK(columns >= 1, "compose_grid: columns ", columns, " must be >= 1");
    const int n = static_cast<int>(panels.size());
    const int cols = std::min(columns, n), rows = (n + cols - 1) / cols;

    int pw = 0, ph = 0, tw = 0;
    for (const auto& p : panels) {
        pw = std::max(pw, p.image.width());
        ph = std::max(ph, p.image.height());
        tw = std::max(tw, text_width(p.title, kPanelTitleScale));
    }
    const int label_h = text_height(kPanelTitleScale) + kPad / 2;
    const int cell_w = std::max(pw, tw), cell_h = label_h + ph;
    const int head = title.empty() ? 0 : text_height(kHeadScale) + kPad;
    // 64-bit so an oversized grid reaches the Canvas size check instead of overflowing.
    const long long width = kPad + static_cast<long long>(cols) * (cell_w + kPad);
    const long long height = kPad + head + static_cast<long long>(rows) * (cell_h + kPad);
    SPLATLM_CHECK(width <= Canvas::kMaxSide && height <= Canvas::kMaxSide, "compose_grid: ", n,
                  " panels of up to ", pw, "x", ph, " make a ", width, "x", height, " image");
    Canvas out(static_cast<int>(width), static_cast<int>(height), kWhite);

    if (!title.empty())
        draw_text(out, (out.width() - text_width(title, kHeadScale)) / 2, kPad, title, kText,
                  kHeadScale);
    for (int k = 0; k < n; ++k) {
        const Panel& p = panels[k];
        const int cx = kPad + (k % cols) * (cell_w + kPad);
        const int cy = kPad + head + (k / cols) * (cell_h + kPad);
        draw_text(out, cx + (cell_w - text_width(p.title, kPanelTitleScale)) / 2, cy, p.title,
                  kText, kPanelTitleScale);
        out.draw_canvas(p.image, cx + (cell_w - p.image.width()) / 2, cy + label_h);
    }
    return out;
}

Canvas text_block(const std::vector<std::string>& lines, int scale) {
    using namespace style;
    int width = 1;
    for (const std::string& line : lines) width = std::max(width, text_width(line, scale));
    Canvas out(width + 2 * kPad, std::max<int>(1, int(lines.size())) * kLineHeight * scale + 2 * kPad, kWhite);
    for (size_t i = 0; i < lines.size(); ++i)
        draw_text(out, kPad, kPad + int(i) * kLineHeight * scale, lines[i], kText, scale);
    return out;
}

}  // namespace splatlm::viz
