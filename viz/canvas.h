// canvas.h — an RGBA8 raster with the few drawing primitives every splatlm picture is made of.
//
// Coordinates: pixel (i, j) is the unit square [i, i+1) x [j, j+1), x to the right, y down, so
// its centre is (i + 0.5, j + 0.5). Shapes given in continuous coordinates (lines, circles,
// ellipses) are anti-aliased by the classic signed-distance trick: for each pixel centre near the
// shape we estimate the distance d to the shape's edge and use clamp(0.5 - d, 0, 1) as the
// fraction of the pixel covered. Colours are composited with Porter–Duff "over", with that
// coverage multiplying the source alpha. Every write is clipped to the canvas, so shapes that lie
// partly or wholly outside are simply cut off. Nothing here depends on time, threads or global
// state: the same calls always produce the same pixels and the same PNG bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace splatlm::viz {

struct Rgba {
    std::uint8_t r = 0, g = 0, b = 0, a = 255;
    friend bool operator==(const Rgba&, const Rgba&) = default;
};

inline constexpr Rgba kWhite{255, 255, 255, 255};
inline constexpr Rgba kBlack{0, 0, 0, 255};
inline constexpr Rgba kTransparent{0, 0, 0, 0};

// The same colour with a different alpha (0 = invisible, 255 = opaque).
constexpr Rgba with_alpha(Rgba c, std::uint8_t a) { return {c.r, c.g, c.b, a}; }

class Canvas {
public:
    // width and height in pixels, each in [1, kMaxSide]; every pixel starts as `background`.
    static constexpr int kMaxSide = 16384;
    Canvas(int width, int height, Rgba background = kWhite);

    int width() const { return width_; }
    int height() const { return height_; }
    Rgba pixel(int x, int y) const;                     // throws outside the canvas
    const std::vector<std::uint8_t>& rgba() const { return pixels_; }  // row-major RGBA8

    // Composites c over pixel (x, y) with the given coverage in [0, 1]; outside → no-op.
    void blend_pixel(int x, int y, Rgba c, double coverage = 1.0);

    // Axis-aligned pixel rectangles: [x, x+w) x [y, y+h). Empty or outside → no-op.
    void fill_rect(int x, int y, int w, int h, Rgba c);
    void stroke_rect(int x, int y, int w, int h, int thickness, Rgba c);  // border inside the rect

    // A straight segment with round caps, `width` pixels thick (> 0).
    void line(double x0, double y0, double x1, double y1, double width, Rgba c);

    // Circles and ellipses centred on (cx, cy). Radii below half a pixel are drawn as half a
    // pixel so tiny shapes stay visible. angle_rad rotates the ellipse's x radius
    // counter-clockwise as seen on screen (y points down, so positive angles tilt it upwards).
    void fill_circle(double cx, double cy, double r, Rgba c);
    void stroke_circle(double cx, double cy, double r, double width, Rgba c);
    void fill_ellipse(double cx, double cy, double rx, double ry, double angle_rad, Rgba c);
    void stroke_ellipse(double cx, double cy, double rx, double ry, double angle_rad, double width,
                        Rgba c);

    // Composites another canvas over this one with its top-left corner at (x, y), clipped.
    void draw_canvas(const Canvas& src, int x, int y);

    std::vector<std::uint8_t> encode_png() const;
    void save_png(const std::string& path) const;  // temp file + rename; throws on failure

private:
    // Shared by fill_* and stroke_* ellipses: `width` <= 0 means filled.
    void ellipse(double cx, double cy, double rx, double ry, double angle_rad, double width,
                 Rgba c);

    int width_, height_;
    std::vector<std::uint8_t> pixels_;
};

}  // namespace splatlm::viz
