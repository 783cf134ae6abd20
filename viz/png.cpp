// png.cpp — PNG encoding through Debian's libstb (the implementation lives in the library,
// so the header is included without STB_IMAGE_WRITE_IMPLEMENTATION).
#include "viz/png.h"

#include <stb_image_write.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "tensor/error.h"

namespace splatlm::viz {

namespace {
// stb calls this with successive chunks of the encoded stream.
void append_chunk(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(context);
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
}
}  // namespace

std::vector<std::uint8_t> encode_png_rgba(const std::uint8_t* rgba, int width, int height) {
    SPLATLM_CHECK(rgba != nullptr && width > 0 && height > 0, "encode_png: empty image ", width,
                  "x", height);
    std::vector<std::uint8_t> out;
    const int ok = stbi_write_png_to_func(append_chunk, &out, width, height, 4, rgba, width * 4);
    SPLATLM_CHECK(ok != 0 && !out.empty(), "encode_png: stb failed to encode ", width, "x", height);
    return out;
}


}  // namespace splatlm::viz
