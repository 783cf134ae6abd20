// png.h — turning RGBA pixels into PNG bytes, and putting bytes on disk safely.
//
// Encoding happens in memory (stb_image_write's callback API) so tests can inspect the bytes
// and so a file is only ever written whole: write_file_atomic() writes a sibling temp file and
// renames it over the target, so a reader never sees half a picture.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace splatlm::viz {

// PNG bytes for a width x height image of tightly packed RGBA8 pixels, rows top to bottom.
std::vector<std::uint8_t> encode_png_rgba(const std::uint8_t* rgba, int width, int height);

// Writes bytes to path via "<path>.tmp.<pid>" + rename. Throws splatlm::Error on failure.
void write_file_atomic(const std::string& path, const std::vector<std::uint8_t>& bytes);

}  // namespace splatlm::viz
