// text_file.h — whole-file reads and writes with one-line errors that say what went wrong
// (missing file, a directory, unreadable, write failure) and what the file was for.
#pragma once
#include <string>
#include <string_view>

namespace splatlm {

// Returns the file's bytes unchanged (binary mode). `what` names the caller in errors:
// read_file_bytes("x.txt", "dataset") throws "dataset: no such file 'x.txt'".
std::string read_file_bytes(const std::string& path, const char* what);

// Replaces the file's contents with `bytes`.
void write_file_bytes(const std::string& path, std::string_view bytes, const char* what);

}  // namespace splatlm
