// png.h — turning RGBA pixels into PNG bytes.
//
// Encoding happens in memory (stb_image_write's callback API) so tests can inspect the bytes
// and so a file is only ever written whole (Canvas::save_png uses tensor/file_io.h's atomic write).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace splatlm::viz {

// PNG bytes for a width x height image of tightly packed RGBA8 pixels, rows top to bottom.
std::vector<std::uint8_t> encode_png_rgba(const std::uint8_t* rgba, int width, int height);

}  // namespace splatlm::viz
