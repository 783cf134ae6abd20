// canvas.cpp — the raster primitives. Each continuous shape is drawn by visiting the pixels of a
// conservative bounding region (clamped to the canvas *before* converting to int, so huge or
// far-away coordinates can neither overflow nor write out of bounds), estimating the signed
// distance from the pixel centre to the shape's boundary, and blending with coverage
// clamp(0.5 - distance, 0, 1).
#include "viz/canvas.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "tensor/file_io.h"
#include "viz/png.h"

namespace splatlm::viz {

namespace {

bool all_finite(std::initializer_list<double> vs) {
    return std::all_of(vs.begin(), vs.end(), [](double v) { return std::isfinite(v); });
}

// Pixel index range [lo, hi) whose centres may lie within [a, b], clipped to [0, n).
void pixel_span(double a, double b, int n, int& lo, int& hi) {
    lo = static_cast<int>(std::clamp(std::floor(a), 0.0, static_cast<double>(n)));
    hi = static_cast<int>(std::clamp(std::ceil(b) + 1.0, 0.0, static_cast<double>(n)));
}

double coverage_of(double signed_distance) { return std::clamp(0.5 - signed_distance, 0.0, 1.0); }

}  // namespace

Canvas::Canvas(int width, int height, Rgba background) : width_(width), height_(height) {
    SPLATLM_CHECK(width >= 1 && height >= 1 && width <= kMaxSide && height <= kMaxSide,
                  "Canvas: size ", width, "x", height, " outside [1, ", kMaxSide, "]");
    pixels_.resize(static_cast<std::size_t>(width) * height * 4);
    for (std::size_t i = 0; i < pixels_.size(); i += 4) {
        pixels_[i] = background.r;
        pixels_[i + 1] = background.g;
        pixels_[i + 2] = background.b;
        pixels_[i + 3] = background.a;
    }
}

Rgba Canvas::pixel(int x, int y) const {
    SPLATLM_CHECK(x >= 0 && y >= 0 && x < width_ && y < height_, "Canvas::pixel: (", x, ", ", y,
                  ") outside ", width_, "x", height_);
    const std::uint8_t* p = &pixels_[(static_cast<std::size_t>(y) * width_ + x) * 4];
    return {p[0], p[1], p[2], p[3]};
}

void Canvas::blend_pixel(int x, int y, Rgba c, double coverage) {
    if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
    const double sa = c.a / 255.0 * std::clamp(coverage, 0.0, 1.0);
    if (sa <= 0.0) return;
    std::uint8_t* p = &pixels_[(static_cast<std::size_t>(y) * width_ + x) * 4];
    if (sa >= 1.0) {
        p[0] = c.r, p[1] = c.g, p[2] = c.b, p[3] = 255;
        return;
    }
    // "over" on straight (non-premultiplied) alpha: out = src*sa + dst*da*(1-sa), / out_alpha.
    const double da = p[3] / 255.0;
    const double oa = sa + da * (1.0 - sa);
    const auto mix = [&](double s, double d) {
        return static_cast<std::uint8_t>(std::lround((s * sa + d * da * (1.0 - sa)) / oa));
    };
    p[0] = mix(c.r, p[0]);
    p[1] = mix(c.g, p[1]);
    p[2] = mix(c.b, p[2]);
    p[3] = static_cast<std::uint8_t>(std::lround(oa * 255.0));
}

void Canvas::fill_rect(int x, int y, int w, int h, Rgba c) {
    // 64-bit ends so x + w cannot overflow for extreme arguments.
    const long long x0 = std::max<long long>(x, 0), y0 = std::max<long long>(y, 0);
    const long long x1 = std::min<long long>(static_cast<long long>(x) + w, width_);
    const long long y1 = std::min<long long>(static_cast<long long>(y) + h, height_);
    for (long long j = y0; j < y1; ++j)
        for (long long i = x0; i < x1; ++i) blend_pixel(static_cast<int>(i), static_cast<int>(j), c);
}

void Canvas::stroke_rect(int x, int y, int w, int h, int thickness, Rgba c) {
    if (w <= 0 || h <= 0 || thickness <= 0) return;
    const int t = std::min({thickness, (w + 1) / 2, (h + 1) / 2});
    fill_rect(x, y, w, t, c);                  // top
    fill_rect(x, y + h - t, w, t, c);          // bottom
    fill_rect(x, y + t, t, h - 2 * t, c);      // left (between top and bottom, no double blend)
    fill_rect(x + w - t, y + t, t, h - 2 * t, c);
}

void Canvas::line(double x0, double y0, double x1, double y1, double width, Rgba c) {
    SPLATLM_CHECK(all_finite({x0, y0, x1, y1, width}) && width > 0, "Canvas::line: bad geometry (",
                  x0, ", ", y0, ") -> (", x1, ", ", y1, ") width ", width);
    const double hw = width / 2.0, reach = hw + 1.0;
    const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    int row_lo, row_hi;
    pixel_span(std::min(y0, y1) - reach, std::max(y0, y1) + reach, height_, row_lo, row_hi);
    for (int j = row_lo; j < row_hi; ++j) {
        const double yc = j + 0.5;
        // Parameter range t in [0,1] where the segment is within `reach` of this row, then the
        // x range those t cover (padded by reach): only those pixels can be touched.
        double t_lo = 0.0, t_hi = 1.0;
        if (std::abs(dy) > 1e-12) {
            t_lo = (yc - reach - y0) / dy;
            t_hi = (yc + reach - y0) / dy;
            if (t_lo > t_hi) std::swap(t_lo, t_hi);
            t_lo = std::max(t_lo, 0.0);
            t_hi = std::min(t_hi, 1.0);
            if (t_lo > t_hi) continue;
        } else if (std::abs(y0 - yc) > reach) {
            continue;
        }
        const double xa = x0 + t_lo * dx, xb = x0 + t_hi * dx;
        int col_lo, col_hi;
        pixel_span(std::min(xa, xb) - reach, std::max(xa, xb) + reach, width_, col_lo, col_hi);
        for (int i = col_lo; i < col_hi; ++i) {
            const double px = i + 0.5 - x0, py = yc - y0;
            const double t = len2 > 0 ? std::clamp((px * dx + py * dy) / len2, 0.0, 1.0) : 0.0;
            const double ex = px - t * dx, ey = py - t * dy;
            blend_pixel(i, j, c, coverage_of(std::sqrt(ex * ex + ey * ey) - hw));
        }
    }
}

void Canvas::ellipse(double cx, double cy, double rx, double ry, double angle_rad, double width,
                     Rgba c) {
    SPLATLM_CHECK(all_finite({cx, cy, rx, ry, angle_rad, width}) && rx >= 0 && ry >= 0,
                  "Canvas: bad ellipse at (", cx, ", ", cy, ") radii ", rx, ", ", ry);
    rx = std::max(rx, 0.5);
    ry = std::max(ry, 0.5);
    const double cs = std::cos(angle_rad), sn = -std::sin(angle_rad);  // screen y points down
    const double hw = width > 0 ? width / 2.0 : 0.0, reach = hw + 1.0;
    const double ext_x = std::hypot(rx * cs, ry * sn) + reach;
    const double ext_y = std::hypot(rx * sn, ry * cs) + reach;
    int col_lo, col_hi, row_lo, row_hi;
    pixel_span(cx - ext_x, cx + ext_x, width_, col_lo, col_hi);
    pixel_span(cy - ext_y, cy + ext_y, height_, row_lo, row_hi);
    for (int j = row_lo; j < row_hi; ++j) {
        for (int i = col_lo; i < col_hi; ++i) {
            const double dx = i + 0.5 - cx, dy = j + 0.5 - cy;
            // Ellipse frame, scaled so the boundary is the unit circle: q = 1 on the edge.
            const double u = (dx * cs + dy * sn) / rx, v = (-dx * sn + dy * cs) / ry;
            const double q = std::hypot(u, v);
            // First-order distance to the edge, (q - 1) / |grad q|; exact for circles.
            const double grad = std::hypot(u / rx, v / ry);
            const double sd = q > 1e-9 ? (q - 1.0) * q / grad : -std::min(rx, ry);
            blend_pixel(i, j, c, coverage_of(width > 0 ? std::abs(sd) - hw : sd));
        }
    }
}

void Canvas::fill_circle(double cx, double cy, double r, Rgba c) { ellipse(cx, cy, r, r, 0, 0, c); }

void Canvas::stroke_circle(double cx, double cy, double r, double width, Rgba c) {
    SPLATLM_CHECK(std::isfinite(width) && width > 0, "Canvas::stroke_circle: width ", width);
    ellipse(cx, cy, r, r, 0, width, c);
}

void Canvas::fill_ellipse(double cx, double cy, double rx, double ry, double angle_rad, Rgba c) {
    ellipse(cx, cy, rx, ry, angle_rad, 0, c);
}

void Canvas::stroke_ellipse(double cx, double cy, double rx, double ry, double angle_rad,
                            double width, Rgba c) {
    SPLATLM_CHECK(std::isfinite(width) && width > 0, "Canvas::stroke_ellipse: width ", width);
    ellipse(cx, cy, rx, ry, angle_rad, width, c);
}

void Canvas::draw_canvas(const Canvas& src, int x, int y) {
    // Source pixel range that lands on this canvas; 64-bit so extreme offsets cannot overflow.
    const long long i0 = std::max(0LL, -static_cast<long long>(x));
    const long long j0 = std::max(0LL, -static_cast<long long>(y));
    const long long i1 = std::min<long long>(src.width_, static_cast<long long>(width_) - x);
    const long long j1 = std::min<long long>(src.height_, static_cast<long long>(height_) - y);
    for (long long j = j0; j < j1; ++j)
        for (long long i = i0; i < i1; ++i)
            blend_pixel(static_cast<int>(x + i), static_cast<int>(y + j),
                        src.pixel(static_cast<int>(i), static_cast<int>(j)));
}

std::vector<std::uint8_t> Canvas::encode_png() const {
    return encode_png_rgba(pixels_.data(), width_, height_);
}

void Canvas::save_png(const std::string& path) const {
    const std::vector<std::uint8_t> png = encode_png();
    write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace splatlm::viz
