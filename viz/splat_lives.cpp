// splat_lives.cpp — one row per splat slot, one column per health check (splat_lives.h).
#include "viz/splat_lives.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "viz/colormap.h"
#include "viz/font.h"
#include "viz/style.h"

namespace splatlm::viz {

namespace {

constexpr int kMargin = 12, kLabel = 64;
constexpr Rgba kEmpty{225, 225, 225, 255};
constexpr double kDecades = 4;  // read shares from 1 down to 1e-4 span the colours

Rgba mark_colour(char kind) {
    switch (kind) {
        case 'd': return {214, 39, 40, 255};   // red
        case 's': return {31, 119, 180, 255};  // blue
        case 'm': return {255, 127, 14, 255};  // orange
        default: return {44, 160, 44, 255};    // green
    }
}

}  // namespace

Canvas draw_splat_lives(const std::vector<int64_t>& steps, const std::vector<SplatLayerLives>& layers) {
    const size_t checks = steps.size();
    SPLATLM_CHECK(checks > 0 && !layers.empty(), "splat lives: no health checks to draw");
    int64_t rows = 0;
    for (const SplatLayerLives& l : layers) {
        SPLATLM_CHECK(l.heads > 0 && l.slots > 0 && l.share.size() == size_t(l.heads * l.slots) * checks,
                      "splat lives: layer ", l.layer, " has ", l.share.size(), " shares for ", l.heads, " heads × ",
                      l.slots, " slots × ", checks, " checks");
        rows += l.heads * l.slots;
    }
    const int cw = std::max(3, int(720 / checks)), ch = rows > 400 ? 2 : rows > 120 ? 3 : 6;
    const int gap = 14, title = 2 * text_height(2);
    const std::string heading = "splat lives: read share per health check (log colour), empty slots grey";
    const int width = std::max(kLabel + int(checks) * cw, text_width(heading, 2)) + 2 * kMargin;
    const int height = title + int(rows) * ch + int(layers.size()) * gap + 3 * text_height(1) + 2 * kMargin;
    Canvas c(width, height);
    draw_text(c, kMargin, kMargin, heading, style::kText, 2);
    int y = kMargin + title;
    for (const SplatLayerLives& l : layers) {
        draw_text(c, kMargin, y + 2, "layer " + std::to_string(l.layer), style::kText);
        const int x0 = kLabel;
        for (int64_t r = 0; r < l.heads * l.slots; ++r)
            for (size_t k = 0; k < checks; ++k) {
                const float s = l.share[size_t(r) * checks + k];
                const Rgba col = std::isnan(s) ? kEmpty
                                               : map_color(Colormap::viridis,
                                                           1.0 + std::log10(std::max(double(s), 1e-12)) / kDecades);
                c.fill_rect(x0 + int(k) * cw, y + int(r) * ch, cw, ch, col);
            }
        for (int64_t h = 1; h < l.heads; ++h) c.fill_rect(x0, y + int(h * l.slots) * ch, int(checks) * cw, 1, style::kAxis);
        for (const SplatLifeMark& m : l.marks) {
            SPLATLM_CHECK(m.row >= 0 && m.row < l.heads * l.slots && m.check < checks, "splat lives: a mark outside layer ",
                          l.layer, "'s grid");
            c.fill_rect(x0 + int(m.check) * cw, y + int(m.row) * ch, std::max(2, cw / 2), ch, mark_colour(m.kind));
        }
        y += int(l.heads * l.slots) * ch + gap;
    }
    draw_text(c, kLabel, y, "steps " + std::to_string(steps.front()) + " ... " + std::to_string(steps.back()) +
                                ", one column per check; heads separated by black lines", style::kText);
    const std::string legend[] = {"birth/rescue", "death", "mitosis", "merge"};
    const char kinds[] = {'b', 'd', 's', 'm'};
    int x = kLabel;
    y += text_height(1) + 4;
    for (int i = 0; i < 4; ++i) {
        c.fill_rect(x, y, 8, text_height(1), mark_colour(kinds[i]));
        draw_text(c, x + 11, y, legend[i], style::kText);
        x += 11 + text_width(legend[i]) + 14;
    }
    draw_text(c, x, y, "colour: 1e-4 (dark) ... 1 (yellow)", style::kText);
    return c;
}

}  // namespace splatlm::viz
