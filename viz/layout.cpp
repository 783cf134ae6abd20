// layout.cpp — grid composition: measure the largest panel, size the grid, blit each panel
// (alpha-composited with Canvas::draw_canvas) centred in its cell with its title above.
#include "viz/layout.h"

#include <algorithm>
#include <vector>

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

    // Each column as wide as its widest panel (or title), each row as tall as its tallest panel:
    // a small panel beside a large one leaves no band across the whole grid.
    std::vector<int> col_w(cols, 0), row_h(rows, 0);
    for (int k = 0; k < n; ++k) {
        const Panel& p = panels[k];
        col_w[k % cols] = std::max({col_w[k % cols], p.image.width(), text_width(p.title, kPanelTitleScale)});
        row_h[k / cols] = std::max(row_h[k / cols], p.image.height());
    }
    const int label_h = text_height(kPanelTitleScale) + kPad / 2;
    const int head = title.empty() ? 0 : text_height(kHeadScale) + kPad;
    // x and y of each column and row; 64-bit so an oversized grid reaches the Canvas size check.
    std::vector<long long> col_x(cols + 1, kPad), row_y(rows + 1, kPad + head);
    for (int c = 0; c < cols; ++c) col_x[c + 1] = col_x[c] + col_w[c] + kPad;
    for (int r = 0; r < rows; ++r) row_y[r + 1] = row_y[r] + label_h + row_h[r] + kPad;
    const long long width = std::max<long long>(col_x[cols], text_width(title, kHeadScale) + 2 * kPad);
    const long long height = row_y[rows];
    SPLATLM_CHECK(width <= Canvas::kMaxSide && height <= Canvas::kMaxSide, "compose_grid: ", n,
                  " panels make a ", width, "x", height, " image");
    Canvas out(static_cast<int>(width), static_cast<int>(height), kWhite);

    if (!title.empty())
        draw_text(out, (out.width() - text_width(title, kHeadScale)) / 2, kPad, title, kText,
                  kHeadScale);
    for (int k = 0; k < n; ++k) {
        const Panel& p = panels[k];
        const int cell_w = col_w[k % cols];
        const int cx = static_cast<int>(col_x[k % cols]), cy = static_cast<int>(row_y[k / cols]);
        draw_text(out, cx + (cell_w - text_width(p.title, kPanelTitleScale)) / 2, cy, p.title,
                  kText, kPanelTitleScale);
        out.draw_canvas(p.image, cx + (cell_w - p.image.width()) / 2, cy + label_h);
    }
    return out;
}

Canvas with_caption(const Canvas& picture, const std::vector<std::string>& lines) {
    const Canvas caption = text_block(lines);
    Canvas out(std::max(picture.width(), caption.width()), picture.height() + caption.height(), kWhite);
    out.draw_canvas(picture, 0, 0);
    out.draw_canvas(caption, 0, picture.height());
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
