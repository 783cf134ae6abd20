// png.cpp — PNG encoding through Debian's libstb (the implementation lives in the library,
// so the header is included without STB_IMAGE_WRITE_IMPLEMENTATION) and atomic file writes.
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

void write_file_atomic(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    SPLATLM_CHECK(f != nullptr, "save_png: cannot open ", tmp, " for writing");
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    const bool closed = std::fclose(f) == 0;
    if (!written || !closed) {
        std::remove(tmp.c_str());
        fail("save_png: short write to ", tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        fail("save_png: cannot rename ", tmp, " to ", path, ": ", ec.message());
    }
}

}  // namespace splatlm::viz
