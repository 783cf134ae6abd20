// colormap.cpp — colour maps as evenly spaced control points, linearly interpolated in sRGB.
//
// Sources of the control values (published data, typed here by hand):
//  * viridis: matplotlib's default map by Stéfan van der Walt and Nathaniel Smith (2015, CC0),
//    sampled at t = 0, 0.1, …, 1.0. Eleven stops reproduce the 256-entry table to within a few
//    levels per channel, which is invisible in a plot.
//  * diverging: ColorBrewer 2.0 "RdBu", 11 classes (Cynthia Brewer, Penn State), reversed so low
//    values are blue and high values red; its middle class #f7f7f7 is the near-white centre.
//  * categorical: "Tableau 10" (Tableau Software; matplotlib's default colour cycle tab10).
#include "viz/colormap.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace splatlm::viz {

namespace {

using Stops = std::array<Rgba, 11>;

constexpr Stops kViridis = {{{0x44, 0x01, 0x54},
                             {0x48, 0x24, 0x75},
                             {0x41, 0x44, 0x87},
                             {0x35, 0x5f, 0x8d},
                             {0x2a, 0x78, 0x8e},
                             {0x21, 0x91, 0x8c},
                             {0x22, 0xa8, 0x84},
                             {0x44, 0xbf, 0x70},
                             {0x7a, 0xd1, 0x51},
                             {0xbd, 0xdf, 0x26},
                             {0xfd, 0xe7, 0x25}}};

constexpr Stops kBlueWhiteRed = {{{0x05, 0x30, 0x61},
                                  {0x21, 0x66, 0xac},
                                  {0x43, 0x93, 0xc3},
                                  {0x92, 0xc5, 0xde},
                                  {0xd1, 0xe5, 0xf0},
                                  {0xf7, 0xf7, 0xf7},
                                  {0xfd, 0xdb, 0xc7},
                                  {0xf4, 0xa5, 0x82},
                                  {0xd6, 0x60, 0x4d},
                                  {0xb2, 0x18, 0x2b},
                                  {0x67, 0x00, 0x1f}}};

constexpr std::array<Rgba, kCategoricalCount> kTableau10 = {{{0x1f, 0x77, 0xb4},
                                                            {0xff, 0x7f, 0x0e},
                                                            {0x2c, 0xa0, 0x2c},
                                                            {0xd6, 0x27, 0x28},
                                                            {0x94, 0x67, 0xbd},
                                                            {0x8c, 0x56, 0x4b},
                                                            {0xe3, 0x77, 0xc2},
                                                            {0x7f, 0x7f, 0x7f},
                                                            {0xbc, 0xbd, 0x22},
                                                            {0x17, 0xbe, 0xcf}}};

Rgba interpolate(const Stops& stops, double t) {
    const double pos = std::clamp(t, 0.0, 1.0) * (stops.size() - 1);
    const std::size_t k = std::min(static_cast<std::size_t>(pos), stops.size() - 2);
    const double f = pos - static_cast<double>(k);
    const auto lerp = [f](std::uint8_t a, std::uint8_t b) {
        return static_cast<std::uint8_t>(std::lround(a + (b - a) * f));
    };
    const Rgba& a = stops[k];
    const Rgba& b = stops[k + 1];
    return {lerp(a.r, b.r), lerp(a.g, b.g), lerp(a.b, b.b), 255};
}

}  // namespace

Rgba map_color(Colormap map, double t) {
    if (std::isnan(t)) return kMissing;
    return interpolate(map == Colormap::viridis ? kViridis : kBlueWhiteRed, t);
}

Rgba categorical(std::size_t i) { return kTableau10[i % kCategoricalCount]; }

}  // namespace splatlm::viz
