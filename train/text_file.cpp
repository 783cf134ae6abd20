#include "train/text_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tensor/error.h"

namespace splatlm {

std::string read_file_bytes(const std::string& path, const char* what) {
    std::error_code ec;
    SPLATLM_CHECK(std::filesystem::exists(path, ec), what, ": no such file '", path, "'");
    SPLATLM_CHECK(!std::filesystem::is_directory(path, ec), what, ": '", path, "' is a directory, not a file");
    std::ifstream in(path, std::ios::binary);
    SPLATLM_CHECK(in, what, ": cannot open '", path, "': ", std::strerror(errno));
    std::ostringstream bytes;
    bytes << in.rdbuf();
    SPLATLM_CHECK(!in.bad(), what, ": error while reading '", path, "'");
    return std::move(bytes).str();
}

void write_file_bytes(const std::string& path, std::string_view bytes, const char* what) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    SPLATLM_CHECK(out, what, ": cannot open '", path, "' for writing: ", std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    SPLATLM_CHECK(out, what, ": error while writing '", path, "'");
}

}  // namespace splatlm
