// test_viz.cpp — the visualisation layer: raster primitives, colour maps, the bitmap font, ticks,
// and every picture kind (line plot, heatmap, dashboard grid). Pictures are checked as PNG bytes
// (signature, IHDR size), for content (not blank), for determinism (same calls → same bytes),
// and against degenerate input (one point, constants, NaN/Inf, 1x1) which must never crash.
#include <stb_image.h>

#include <catch2/catch.hpp>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <numbers>

#include "tensor/error.h"
#include "viz/canvas.h"
#include "viz/colormap.h"
#include "viz/font.h"
#include "viz/layout.h"
#include "viz/plot_heatmap.h"
#include "viz/plot_line.h"
#include "viz/style.h"
#include "viz/ticks.h"
#include "tests/viz_helpers.h"

using namespace splatlm;
using namespace splatlm::viz;
using namespace splatlm::test;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double color_distance(Rgba a, Rgba b) {
    return std::sqrt(std::pow(a.r - b.r, 2) + std::pow(a.g - b.g, 2) + std::pow(a.b - b.b, 2));
}

Canvas crop(const Canvas& src, int x0, int y0, int w, int h) {
    Canvas out(w, h, kTransparent);
    out.draw_canvas(src, -x0, -y0);
    return out;
}

}  // namespace

// ---- canvas -------------------------------------------------------------------------------------

TEST_CASE("canvas starts as background and rejects bad sizes", "[viz]") {
    Canvas c(7, 5, {1, 2, 3, 4});
    REQUIRE(c.rgba().size() == 7 * 5 * 4);
    REQUIRE(c.pixel(6, 4) == Rgba{1, 2, 3, 4});
    REQUIRE_THROWS_AS(c.pixel(7, 0), Error);
    REQUIRE_THROWS_AS(Canvas(0, 5), Error);
    REQUIRE_THROWS_AS(Canvas(5, Canvas::kMaxSide + 1), Error);
}

TEST_CASE("blending is Porter-Duff over with coverage", "[viz]") {
    Canvas c(4, 2, kWhite);
    c.blend_pixel(0, 0, kBlack, 0.5);
    c.blend_pixel(1, 0, with_alpha(kBlack, 128));
    c.blend_pixel(2, 0, {255, 0, 0, 255});
    c.blend_pixel(-1, 1, kBlack);  // outside: ignored, must not wrap into the row above...
    c.blend_pixel(4, 0, kBlack);   // ...or below
    c.blend_pixel(0, 2, kBlack);
    REQUIRE(c.pixel(3, 0) == kWhite);
    REQUIRE(c.pixel(0, 1) == kWhite);
    REQUIRE(c.rgba().size() == 4 * 2 * 4);
    REQUIRE(c.pixel(0, 0) == Rgba{128, 128, 128, 255});
    REQUIRE(c.pixel(1, 0) == Rgba{127, 127, 127, 255});
    REQUIRE(c.pixel(2, 0) == Rgba{255, 0, 0, 255});

    Canvas clear(1, 1, kTransparent);
    clear.blend_pixel(0, 0, {0, 0, 255, 128});
    REQUIRE(clear.pixel(0, 0) == Rgba{0, 0, 255, 128});  // over nothing keeps the source colour
}

TEST_CASE("rectangles are clipped to the canvas", "[viz]") {
    Canvas c(10, 10, kWhite);
    c.fill_rect(-5, -5, 8, 8, kBlack);
    REQUIRE(c.pixel(0, 0) == kBlack);
    REQUIRE(c.pixel(2, 2) == kBlack);
    REQUIRE(c.pixel(3, 3) == kWhite);
    c.fill_rect(INT_MIN, INT_MIN, INT_MAX, INT_MAX, kBlack);  // ends at -1: nothing visible
    c.fill_rect(INT_MAX, 0, INT_MAX, 5, kBlack);
    REQUIRE(c.pixel(5, 5) == kWhite);
    c.stroke_rect(4, 4, 5, 5, 1, {255, 0, 0, 255});
    REQUIRE(c.pixel(4, 6) == Rgba{255, 0, 0, 255});
    REQUIRE(c.pixel(6, 6) == kWhite);  // hollow
}

TEST_CASE("lines are anti-aliased, as wide as asked, and clipped", "[viz]") {
    Canvas c(40, 40, kWhite);
    c.line(2, 10.5, 30, 10.5, 1.0, kBlack);  // centred on pixel row 10
    REQUIRE(c.pixel(15, 10) == kBlack);
    REQUIRE(c.pixel(15, 9) == kWhite);
    REQUIRE(c.pixel(15, 11) == kWhite);
    c.line(2, 20.5, 30, 20.5, 3.0, kBlack);
    REQUIRE(c.pixel(15, 19) == kBlack);
    REQUIRE(c.pixel(15, 21) == kBlack);
    REQUIRE(c.pixel(15, 23) == kWhite);

    Canvas d(40, 40, kWhite);
    d.line(3, 3, 35, 22, 1.0, kBlack);  // a slope: edge pixels must be partly covered
    int partial = 0;
    for (std::uint8_t v : d.rgba()) partial += v > 20 && v < 235;
    REQUIRE(partial > 20);

    Canvas e(20, 20, kWhite);
    e.line(-1e9, -1e9, 1e9, 1e9, 2.0, kBlack);  // crosses the whole canvas on the diagonal
    REQUIRE(e.pixel(10, 10) == kBlack);
    REQUIRE(e.pixel(2, 15) == kWhite);
    e.line(-50, -50, -10, -30, 2.0, kBlack);  // wholly outside
    e.line(1e300, 5, 2e300, 5, 2.0, kBlack);
    REQUIRE(e.pixel(0, 0) == kBlack);  // only the diagonal's own pixels are dark
    REQUIRE(e.pixel(19, 0) == kWhite);
    REQUIRE_THROWS_AS(e.line(0, 0, kNaN, 3, 1, kBlack), Error);
    REQUIRE_THROWS_AS(e.line(0, 0, 3, 3, 0, kBlack), Error);
}

TEST_CASE("circles cover their area with soft edges", "[viz]") {
    Canvas c(40, 40, kWhite);
    c.fill_circle(20, 20, 6, kBlack);
    REQUIRE(c.pixel(20, 20) == kBlack);
    REQUIRE(c.pixel(20, 28) == kWhite);
    double ink = 0;
    int partial = 0;
    for (int y = 0; y < 40; ++y)
        for (int x = 0; x < 40; ++x) {
            const int v = c.pixel(x, y).r;
            ink += (255 - v) / 255.0;
            partial += v > 0 && v < 255;
        }
    REQUIRE(ink == Approx(std::numbers::pi * 36).epsilon(0.03));
    REQUIRE(partial > 10);

    Canvas r(40, 40, kWhite);
    r.stroke_circle(20, 20, 10, 2, kBlack);
    REQUIRE(r.pixel(20, 20) == kWhite);
    REQUIRE(r.pixel(30, 20).r < 60);  // on the ring (centre of pixel 30 is 10.5 from the centre)
}

TEST_CASE("rotated ellipses point where the angle says", "[viz]") {
    Canvas c(60, 60, kWhite);
    c.fill_ellipse(30, 30, 20, 3, std::numbers::pi / 4, kBlack);  // tilted up to the right
    REQUIRE(c.pixel(39, 20) == kBlack);
    REQUIRE(c.pixel(20, 39) == kBlack);
    REQUIRE(c.pixel(39, 39) == kWhite);
    REQUIRE(c.pixel(45, 30) == kWhite);

    Canvas v(60, 60, kWhite);
    v.stroke_ellipse(30, 30, 20, 8, std::numbers::pi / 2, 1.5, kBlack);  // long axis vertical
    REQUIRE(v.pixel(30, 30) == kWhite);
    REQUIRE(v.pixel(30, 10).r < 100);
    REQUIRE(v.pixel(38, 30).r < 100);
    REQUIRE(v.pixel(49, 30) == kWhite);

    Canvas e(10, 10, kWhite);
    e.fill_ellipse(5.5, 5.5, 0, 0, 0, kBlack);  // degenerate radii: still a visible dot
    REQUIRE(e.pixel(5, 5).r < 128);
    e.fill_ellipse(-1e12, 1e12, 1e6, 1e6, 1.0, kBlack);  // far outside
    REQUIRE(e.pixel(0, 9) == kWhite);
    REQUIRE_THROWS_AS(e.fill_ellipse(5, 5, -1, 2, 0, kBlack), Error);
    REQUIRE_THROWS_AS(e.stroke_circle(5, 5, 2, kInf, kBlack), Error);
}

TEST_CASE("PNG bytes round-trip, are deterministic and are saved atomically", "[viz]") {
    const auto scene = [] {
        Canvas c(33, 17, kWhite);
        c.fill_circle(10, 8, 5, {200, 30, 30, 180});
        c.line(0, 0, 33, 17, 2, {0, 0, 255, 255});
        draw_text(c, 2, 2, "Hi", kBlack);
        return c;
    };
    const Canvas c = scene();
    const auto bytes = c.encode_png();
    require_png(bytes, 33, 17);
    REQUIRE(bytes == scene().encode_png());

    int w = 0, h = 0, n = 0;
    std::uint8_t* back = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &n, 4);
    REQUIRE(back != nullptr);
    REQUIRE((w == 33 && h == 17));
    const bool same = std::equal(c.rgba().begin(), c.rgba().end(), back);
    stbi_image_free(back);
    REQUIRE(same);

    const auto dir = std::filesystem::temp_directory_path() / ("splatlm_viz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "scene.png").string();
    c.save_png(path);
    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> on_disk{std::istreambuf_iterator<char>(in), {}};
    REQUIRE(on_disk == bytes);
    REQUIRE(std::distance(std::filesystem::directory_iterator(dir), {}) == 1);  // no temp left
    std::filesystem::remove_all(dir);
    REQUIRE_THROWS_AS(c.save_png((dir / "missing_dir" / "x.png").string()), Error);
}

// ---- colour maps ----------------------------------------------------------------------------------

TEST_CASE("colour maps hit their published ends, clamp, and flag NaN", "[viz]") {
    REQUIRE(map_color(Colormap::viridis, 0.0) == Rgba{0x44, 0x01, 0x54, 255});
    REQUIRE(map_color(Colormap::viridis, 1.0) == Rgba{0xfd, 0xe7, 0x25, 255});
    REQUIRE(map_color(Colormap::viridis, 0.5) == Rgba{0x21, 0x91, 0x8c, 255});
    REQUIRE(map_color(Colormap::viridis, -3.0) == map_color(Colormap::viridis, 0.0));
    REQUIRE(map_color(Colormap::viridis, 7.0) == map_color(Colormap::viridis, 1.0));
    REQUIRE(map_color(Colormap::viridis, kInf) == map_color(Colormap::viridis, 1.0));
    REQUIRE(map_color(Colormap::viridis, kNaN) == kMissing);
    REQUIRE(map_color(Colormap::diverging, kNaN) == kMissing);

    const Rgba mid = map_color(Colormap::diverging, 0.5), low = map_color(Colormap::diverging, 0),
               high = map_color(Colormap::diverging, 1);
    REQUIRE((mid.r > 240 && mid.g > 240 && mid.b > 240));
    REQUIRE(low.b > low.r + 40);
    REQUIRE(high.r > high.b + 40);

    double prev_luma = -1, closest_to_missing = 1e9;
    for (int i = 0; i <= 100; ++i) {
        const Rgba v = map_color(Colormap::viridis, i / 100.0);
        const double luma = 0.2126 * v.r + 0.7152 * v.g + 0.0722 * v.b;
        REQUIRE(luma > prev_luma);  // sequential: lighter as t grows
        prev_luma = luma;
        closest_to_missing = std::min({closest_to_missing, color_distance(v, kMissing),
                                       color_distance(map_color(Colormap::diverging, i / 100.0), kMissing)});
    }
    REQUIRE(closest_to_missing > 100);
}

TEST_CASE("categorical palette has 10 distinguishable colours and wraps", "[viz]") {
    for (std::size_t i = 0; i < kCategoricalCount; ++i)
        for (std::size_t j = i + 1; j < kCategoricalCount; ++j)
            REQUIRE(color_distance(categorical(i), categorical(j)) > 50);
    REQUIRE(categorical(kCategoricalCount + 3) == categorical(3));
}

// ---- font -------------------------------------------------------------------------------------------

TEST_CASE("glyphs render as their designed bitmaps", "[viz]") {
    const auto row_bits = [](char ch, int row) {
        std::string s;
        for (int col = 0; col < kGlyphWidth; ++col) s += glyph_pixel(ch, col, row) ? '#' : '.';
        return s;
    };
    REQUIRE(row_bits('A', 0) == ".###.");
    REQUIRE(row_bits('A', 3) == "#####");
    REQUIRE(row_bits('A', 6) == "#...#");
    REQUIRE(row_bits('I', 0) == ".###.");
    REQUIRE(row_bits('I', 3) == "..#..");
    REQUIRE(row_bits('I', 6) == ".###.");
    for (int row = 0; row < kGlyphHeight; ++row)
        REQUIRE(row_bits('.', row) == (row == 5 || row == 6 ? ".##.." : "....."));
    REQUIRE(row_bits('g', 8) == ".###.");  // descender
    REQUIRE(row_bits(' ', 3) == ".....");
    REQUIRE(row_bits('\x01', 0) == "#####");  // unknown byte: placeholder box
    REQUIRE(row_bits('\xff', 3) == "#...#");
    REQUIRE_FALSE(glyph_pixel('A', 5, 0));  // outside the glyph box

    // Every printable glyph but space has ink, and no two glyphs are identical.
    std::vector<std::string> seen;
    for (int ch = 33; ch <= 126; ++ch) {
        std::string bits;
        for (int row = 0; row < kGlyphHeight; ++row) bits += row_bits(static_cast<char>(ch), row);
        REQUIRE(bits.find('#') != std::string::npos);
        REQUIRE(std::find(seen.begin(), seen.end(), bits) == seen.end());
        seen.push_back(bits);
    }
}

TEST_CASE("draw_text places glyph pixels exactly, at 1x and 2x", "[viz]") {
    for (int scale : {1, 2}) {
        Canvas c(40, 30, kWhite);
        draw_text(c, 3, 4, "AI.", kBlack, scale);
        for (int k = 0; k < 3; ++k)
            for (int row = 0; row < kGlyphHeight; ++row)
                for (int col = 0; col < kAdvance; ++col) {
                    const bool ink = glyph_pixel("AI."[k], col, row);
                    for (int dy = 0; dy < scale; ++dy)
                        for (int dx = 0; dx < scale; ++dx) {
                            const int x = 3 + (k * kAdvance + col) * scale + dx;
                            const int y = 4 + row * scale + dy;
                            if (x < 40 && y < 30) REQUIRE((c.pixel(x, y) == kBlack) == ink);
                        }
                }
    }
    REQUIRE(text_width("") == 0);
    REQUIRE(text_width("A") == 5);
    REQUIRE(text_width("AB") == 11);
    REQUIRE(text_width("AB", 2) == 22);
    REQUIRE(text_height(2) == 18);
    Canvas c(5, 5);
    REQUIRE_THROWS_AS(draw_text(c, 0, 0, "x", kBlack, 0), Error);
    REQUIRE_THROWS_AS(text_width("x", kMaxTextScale + 1), Error);
}

TEST_CASE("vertical text is rotated counter-clockwise and reads upwards", "[viz]") {
    Canvas c(20, 20, kWhite);
    draw_text(c, 2, 3, "L", kBlack, 1, TextDir::up);  // box: 9 wide, 5 tall
    // L's stem (column 0) becomes the bottom edge, its foot (row 6) the right edge.
    for (int row = 0; row < kCapHeight; ++row) REQUIRE(c.pixel(2 + row, 3 + 4) == kBlack);
    for (int col = 0; col < kGlyphWidth; ++col) REQUIRE(c.pixel(2 + 6, 3 + 4 - col) == kBlack);
    REQUIRE(c.pixel(2, 3) == kWhite);

    Canvas two(20, 20, kWhite);
    draw_text(two, 0, 0, "-.", kBlack, 1, TextDir::up);  // first character at the bottom
    REQUIRE(two.pixel(3, 10) == kBlack);                 // '-' bar, lower glyph
    REQUIRE(two.pixel(5, 2) == kBlack);                  // '.' dot, upper glyph
}

TEST_CASE("text at and beyond the border is clipped exactly", "[viz]") {
    // Reference: the same text on a canvas with a 40-pixel guard band all round. The small canvas
    // must equal the guarded one's centre, so nothing that belonged outside leaked in or out.
    const std::string text = "Clip\x01 me!";
    for (auto dir : {TextDir::right, TextDir::up})
        for (int scale : {1, 2})
            for (auto [x, y] : std::vector<std::pair<int, int>>{{-7, -5}, {10, 12}, {-100, 3}, {2, -30}, {16, 16}}) {
                Canvas small(20, 18, kWhite), guarded(100, 98, kWhite);
                draw_text(small, x, y, text, kBlack, scale, dir);
                draw_text(guarded, x + 40, y + 40, text, kBlack, scale, dir);
                REQUIRE(small.rgba() == crop(guarded, 40, 40, 20, 18).rgba());
                REQUIRE(small.rgba().size() == 20u * 18u * 4u);
            }
    Canvas tiny(1, 1, kWhite);
    draw_text(tiny, INT_MIN / 2, INT_MAX / 2, std::string(300, 'W'), kBlack, kMaxTextScale);
    REQUIRE(tiny.pixel(0, 0) == kWhite);
}

// ---- ticks ----------------------------------------------------------------------------------------

TEST_CASE("axes get nice ticks and short labels", "[viz]") {
    REQUIRE(percentile({5, 1, 3, 2, 4}, 50, 0) == 3);  // nearest rank
    REQUIRE(percentile({5, 1, 3, 2, 4}, 100, 0) == 5);
    REQUIRE(percentile({5, 1, 3, 2, 4}, 1, 0) == 1);
    REQUIRE(percentile({}, 99, -1) == -1);
    REQUIRE(nice_step(10, 5) == 2);
    REQUIRE(nice_step(0.857, 6) == Approx(0.2));
    REQUIRE(nice_step(7e-5, 7) == Approx(1e-5));

    const Axis a = linear_axis(0.013, 0.87);
    REQUIRE(a.lo == 0);
    REQUIRE(a.hi == Approx(1.0));
    REQUIRE(a.labels == std::vector<std::string>{"0", "0.2", "0.4", "0.6", "0.8", "1.0"});

    const Axis sym = linear_axis(-1, 1);
    REQUIRE(std::count(sym.labels.begin(), sym.labels.end(), "0") == 1);
    for (const auto& l : sym.labels) REQUIRE(l != "-0");

    const Axis flat = linear_axis(5, 5);
    REQUIRE(flat.lo < 5);
    REQUIRE(flat.hi > 5);
    REQUIRE(flat.ticks.size() >= 2);
    const Axis zero = linear_axis(0, 0);
    REQUIRE((zero.lo == -1 && zero.hi == 1));

    const Axis lg = log_axis(2.1, 4.5);
    REQUIRE(lg.log);
    REQUIRE(lg.labels == std::vector<std::string>{"1", "2", "5", "10"});
    REQUIRE(log_axis(1e-30, 1e10).ticks.size() <= 9);
    REQUIRE(log_axis(10, 10).lo == Approx(1));
    REQUIRE_THROWS_AS(log_axis(0, 1), Error);
    REQUIRE_THROWS_AS(linear_axis(kNaN, 1), Error);

    REQUIRE(format_tick(2.5e-5, 5e-6) == "2.5e-5");
    REQUIRE(format_tick(1e6, 2e5) == "1e6");
    REQUIRE(format_tick(-0.30000000000000004, 0.1) == "-0.3");
    REQUIRE(format_tick(1500, 500) == "1500");
    REQUIRE(format_tick(0.25, 0) == "0.25");  // no spacing known
    REQUIRE(format_tick(kInf, 1) == "Inf");
    REQUIRE(format_tick(kNaN, 1) == "NaN");
    REQUIRE(linear_ticks_within(0.0312, 0.981).labels == std::vector<std::string>{"0.2", "0.4", "0.6", "0.8"});
}

// ---- line plots -------------------------------------------------------------------------------------

TEST_CASE("line plot: a valid, non-blank, deterministic picture with all its parts", "[viz]") {
    Series a{"train", {}, {}}, b{"val", {}, {}};
    for (int i = 0; i < 100; ++i) {
        a.x.push_back(i), a.y.push_back(3.0 * std::exp(-i / 30.0) + 1);
        b.x.push_back(i), b.y.push_back(3.2 * std::exp(-i / 35.0) + 1.1);
    }
    LinePlotOptions opt;
    opt.title = "loss";
    opt.x_label = "step";
    opt.y_label = "nats";
    const LinePlot p = plot_lines({a, b}, opt);
    require_good_picture(p.image, plot_lines({a, b}, opt).image, 640, 400);
    REQUIRE(p.skipped_points == 0);
    REQUIRE(count_color(p.image, categorical(0)) > 100);  // curve
    REQUIRE(count_color(p.image, categorical(1)) > 100);  // curve and legend swatch
    REQUIRE(count_color(p.image, style::kNote) == 0);     // nothing skipped, no note

    opt.log_y = true;
    opt.width = 300, opt.height = 200;
    const LinePlot lg = plot_lines({a}, opt);
    require_good_picture(lg.image, plot_lines({a}, opt).image, 300, 200);
}

TEST_CASE("line plot: NaN/Inf (and <= 0 on log y) are skipped, counted and noted", "[viz]") {
    Series s{"s", {0, 1, 2, 3, 4, kNaN, 6}, {1, kNaN, 2, kInf, -1, 3, 0}};
    const LinePlot lin = plot_lines({s});
    REQUIRE(lin.skipped_points == 3);
    REQUIRE(count_color(lin.image, style::kNote) > 20);
    LinePlotOptions opt;
    opt.log_y = true;
    REQUIRE(plot_lines({s}, opt).skipped_points == 5);  // also y = -1 and y = 0
}

TEST_CASE("line plot: degenerate data still draws", "[viz]") {
    LinePlotOptions opt;
    opt.width = 320, opt.height = 240;
    const LinePlot one = plot_lines({Series{"one", {3}, {7}}}, opt);
    require_good_picture(one.image, plot_lines({Series{"one", {3}, {7}}}, opt).image, 320, 240);
    REQUIRE(count_color(one.image, categorical(0)) > 4);  // the lone point is a dot

    const Series flat{"", {0, 1, 2}, {2, 2, 2}};
    require_good_picture(plot_lines({flat}, opt).image, plot_lines({flat}, opt).image, 320, 240);

    const Series none{"bad", {0, 1}, {kNaN, kInf}};
    const LinePlot bad = plot_lines({none}, opt);
    REQUIRE(bad.skipped_points == 2);
    require_good_picture(bad.image, plot_lines({none}, opt).image, 320, 240);
}

TEST_CASE("line plot: bad input is a clear error", "[viz]") {
    REQUIRE_THROWS_AS(plot_lines({}), Error);
    REQUIRE_THROWS_WITH(plot_lines({Series{"empty", {}, {}}}), Catch::Contains("empty"));
    REQUIRE_THROWS_AS(plot_lines({Series{"ragged", {1, 2}, {1}}}), Error);
    LinePlotOptions tiny;
    tiny.width = 50, tiny.height = 40;
    REQUIRE_THROWS_AS(plot_lines({Series{"s", {1}, {1}}}, tiny), Error);
}

// ---- heatmaps --------------------------------------------------------------------------------------

TEST_CASE("heatmap: cells take their colours, NaN is missing, the mask is hatched", "[viz]") {
    // 3x3, no title or labels: the grid starts at (kPad, kPad).
    const std::vector<float> v = {0, 1, 0.5f, 0.25f, std::nanf(""), 1, 1, 0, 0.75f};
    HeatmapOptions opt;
    opt.cell_px = 10;
    opt.vmin = 0, opt.vmax = 1;
    const auto cell = [](const Canvas& c, int i, int j) {
        return c.pixel(style::kPad + j * 10 + 5, style::kPad + i * 10 + 5);
    };
    const Canvas c = plot_heatmap(v, 3, 3, opt);
    require_good_picture(c, plot_heatmap(v, 3, 3, opt), c.width(), c.height());
    REQUIRE(cell(c, 0, 0) == map_color(Colormap::viridis, 0));
    REQUIRE(cell(c, 0, 1) == map_color(Colormap::viridis, 1));
    REQUIRE(cell(c, 2, 2) == map_color(Colormap::viridis, 0.75));
    REQUIRE(cell(c, 1, 1) == kMissing);
    REQUIRE(count_color(c, kMissing) > 100);  // the cell plus the colour bar's NaN swatch

    opt.lower_triangular = true;
    const std::vector<float> up_nan = {0, std::nanf(""), 1, 0.5f, 0.5f, 1, 1, 0, 0.75f};
    const Canvas m = plot_heatmap(up_nan, 3, 3, opt);
    for (auto [i, j] : std::vector<std::pair<int, int>>{{0, 1}, {0, 2}, {1, 2}}) {
        const Rgba p = cell(m, i, j);
        REQUIRE((p == kWhite || p == style::kMaskInk));
    }
    REQUIRE(count_color(m, style::kMaskInk) > 10);
    REQUIRE(count_color(m, kMissing) == 0);  // a NaN above the diagonal is masked, not missing
    REQUIRE(cell(m, 2, 0) == map_color(Colormap::viridis, 1));
}

TEST_CASE("heatmap: diverging auto range is symmetric around zero", "[viz]") {
    const std::vector<float> v = {-1, 0, 3, 1};
    HeatmapOptions opt;
    opt.cell_px = 10;
    opt.colormap = Colormap::diverging;
    const Canvas c = plot_heatmap(v, 2, 2, opt);
    REQUIRE(c.pixel(style::kPad + 15, style::kPad + 5) == map_color(Colormap::diverging, 0.5));
    REQUIRE(c.pixel(style::kPad + 5, style::kPad + 15) == map_color(Colormap::diverging, 1.0));
}

TEST_CASE("heatmap: degenerate and crowded input draws", "[viz]") {
    const float one = 0.3f;
    HeatmapOptions opt;
    opt.title = "1x1";
    const Canvas c1 = plot_heatmap({&one, 1}, 1, 1, opt);
    require_good_picture(c1, plot_heatmap({&one, 1}, 1, 1, opt), c1.width(), c1.height());

    const std::vector<float> eq(12, 2.0f);
    opt.title = "flat";
    const Canvas ce = plot_heatmap(eq, 3, 4, opt);
    require_good_picture(ce, plot_heatmap(eq, 3, 4, opt), ce.width(), ce.height());

    const std::vector<float> all_nan(6, std::nanf(""));
    const Canvas cn = plot_heatmap(all_nan, 2, 3, opt);
    REQUIRE(count_color(cn, kMissing) > 6 * 100);

    const std::size_t n = 300;
    std::vector<float> big(n * n);
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < n; ++i) labels.push_back("tok" + std::to_string(i));
    for (std::size_t k = 0; k < big.size(); ++k) big[k] = static_cast<float>(std::sin(k * 0.01));
    opt.row_labels = opt.col_labels = labels;
    opt.lower_triangular = true;
    const Canvas cb = plot_heatmap(big, n, n, opt);
    require_png(cb.encode_png(), cb.width(), cb.height());
    REQUIRE(brightness_variance(cb) > 100);
}

TEST_CASE("heatmap: robust and log colour scales fit the data, and say so on the bar", "[viz]") {
    const auto cell = [](const Canvas& c, int j) { return c.pixel(style::kPad + j * 10 + 5, style::kPad + 5); };
    HeatmapOptions log;
    log.cell_px = 10;
    log.log_colors = true;
    log.vmax = 1.0;  // with log_decades = 3: [1e-3, 1], one decade per third of the map
    const std::vector<float> decades = {1e-4f, 1e-3f, 1e-2f, 1e-1f, 1.f};
    const Canvas l = plot_heatmap(decades, 1, 5, log);
    REQUIRE(cell(l, 0) == map_color(Colormap::viridis, 0));  // below the range: the bottom colour
    REQUIRE(cell(l, 1) == map_color(Colormap::viridis, 0));
    REQUIRE(cell(l, 2) == map_color(Colormap::viridis, 1.0 / 3));
    REQUIRE(cell(l, 3) == map_color(Colormap::viridis, 2.0 / 3));
    REQUIRE(cell(l, 4) == map_color(Colormap::viridis, 1));

    std::vector<float> ramp(100);
    for (int i = 0; i < 100; ++i) ramp[size_t(i)] = float(i);  // one outlier-free ramp 0..99
    HeatmapOptions robust;
    robust.cell_px = 10;
    robust.vmin = 0;
    robust.top_percentile = 50;  // the top colour at 49, the 50th value
    const Canvas r = plot_heatmap(ramp, 1, 100, robust);
    REQUIRE(cell(r, 49) == map_color(Colormap::viridis, 1));
    REQUIRE(cell(r, 99) == map_color(Colormap::viridis, 1));
    REQUIRE(cell(r, 24) == map_color(Colormap::viridis, 24.0 / 49));
    REQUIRE(r.width() > plot_heatmap(ramp, 1, 100, HeatmapOptions{.cell_px = 10}).width() - 40);  // room for "top: p50"
    HeatmapOptions bad;
    bad.top_percentile = 0;
    REQUIRE_THROWS_AS(plot_heatmap(ramp, 1, 100, bad), Error);
}

TEST_CASE("heatmap: row labels are thinned by their measured height, so all show when the cells hold them", "[viz]") {
    const std::vector<float> v(20, 0.5f);
    HeatmapOptions o;
    o.row_labels = std::vector<std::string>(20, "W");
    const int label_w = text_width("W");
    // Labels drawn: runs of inked pixel rows in the label band (left of the grid).
    const auto labelled_rows = [&](int cell) {
        o.cell_px = cell;
        const Canvas c = plot_heatmap(v, 20, 1, o);
        int runs = 0;
        bool before = false;
        for (int y = 0; y < c.height(); ++y) {
            bool ink = false;
            for (int x = style::kPad; x < style::kPad + label_w; ++x) ink = ink || c.pixel(x, y) == style::kText;
            runs += ink && !before;
            before = ink;
        }
        return runs;
    };
    REQUIRE(labelled_rows(text_height() + 1) == 20);  // every row: the labels just fit
    REQUIRE(labelled_rows(8) == 10);                  // 8 px cells hold every second 9 px label
    REQUIRE(labelled_rows(3) == 5);                   // 3 px cells: every fourth (a label spans 3⅓ cells)
}

TEST_CASE("heatmap: bad input is a clear error", "[viz]") {
    const std::vector<float> v(6, 1.0f);
    REQUIRE_THROWS_AS(plot_heatmap(v, 2, 2), Error);
    REQUIRE_THROWS_AS(plot_heatmap({}, 0, 0), Error);
    HeatmapOptions opt;
    opt.row_labels = {"a"};
    REQUIRE_THROWS_AS(plot_heatmap(v, 2, 3, opt), Error);
    HeatmapOptions range;
    range.vmin = 2, range.vmax = 1;
    REQUIRE_THROWS_AS(plot_heatmap(v, 2, 3, range), Error);
}

// ---- layout -----------------------------------------------------------------------------------------

TEST_CASE("compose_grid puts panels in a titled grid", "[viz]") {
    const Rgba red{220, 20, 20, 255}, blue{20, 20, 220, 255};
    std::vector<Panel> panels{{"red", Canvas(50, 30, red)}, {"blue", Canvas(20, 40, blue)},
                              {"", Canvas(10, 10, red)}};
    const Canvas g = compose_grid(panels, 2, "dash");
    require_good_picture(g, compose_grid(panels, 2, "dash"), g.width(), g.height());
    REQUIRE(count_color(g, red) == 50 * 30 + 10 * 10);
    REQUIRE(count_color(g, blue) == 20 * 40);
    REQUIRE(g.width() > 2 * 50);
    REQUIRE(g.height() > 2 * 40);
    REQUIRE_THROWS_AS(compose_grid({}, 2), Error);
    REQUIRE_THROWS_AS(compose_grid(panels, 0), Error);
}

TEST_CASE("compose_grid and with_caption are as wide as their text", "[viz]") {
    const Canvas small(20, 20, Rgba{128, 128, 128, 255});
    const std::string title = "a title much wider than the one small panel below it";
    REQUIRE(compose_grid({{"", small}}, 1, title).width() >= text_width(title, 3));
    const Canvas captioned = with_caption(small, {"a caption line wider than the picture"});
    REQUIRE(captioned.width() >= text_width("a caption line wider than the picture"));
    REQUIRE(captioned.height() > 20 + kLineHeight);
    REQUIRE(captioned.pixel(5, 5) == small.pixel(5, 5));
}

TEST_CASE("compose_grid sizes each row and column by its own panels", "[viz]") {
    // A tall panel in the first row must not make the second row tall, nor a wide panel in the
    // first column widen the second: the grid is the two rows (columns) stacked, sharing one gap.
    const Rgba grey{128, 128, 128, 255};
    const Canvas tall(60, 300, grey), small(40, 30, grey), wide(400, 20, grey);
    const int both_rows = compose_grid({{"a", tall}, {"b", small}, {"c", small}, {"d", small}}, 2).height();
    const int row1 = compose_grid({{"a", tall}, {"b", small}}, 2).height();
    const int row2 = compose_grid({{"c", small}, {"d", small}}, 2).height();
    REQUIRE(both_rows == row1 + row2 - style::kPad);
    const int both_cols = compose_grid({{"", wide}, {"", small}}, 2).width();
    REQUIRE(both_cols == compose_grid({{"", wide}}, 1).width() + compose_grid({{"", small}}, 1).width() - style::kPad);
}
