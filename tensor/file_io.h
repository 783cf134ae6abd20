// file_io.h — reading files with clear errors, and writing them atomically.
//
// An atomic write never leaves a half-written file at `path`: a reader (or a resumed run after a
// crash or a full disk) sees either the complete old file or the complete new one. Protocol:
//   1. create a fresh temp file in the same directory as `path` (rename is atomic only within
//      one filesystem), named ".<name>.tmp-<pid>-<n>" so it is hidden and never clashes;
//   2. write the bytes, checking every write;
//   3. fflush + fsync the temp file, so its data is on disk before it gets the real name;
//   4. rename() it over `path` (atomic replace on POSIX);
//   5. fsync the directory, so the rename itself survives a power loss.
// If anything fails, or the writer callback throws, the temp file is removed, `path` is left
// exactly as it was, and the error (naming the path and strerror) propagates.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace splatlm {

// The whole file as bytes. Throws naming the path and the OS reason (missing, unreadable, a directory).
std::string read_file(const std::string& path);

// A file opened for reading in pieces (used to stream tensor data without holding the file twice).
class InputFile {
  public:
    explicit InputFile(const std::string& path);  // throws naming the path when it cannot be opened
    ~InputFile();
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    const std::string& path() const { return path_; }
    uint64_t size() const { return size_; }  // size when opened
    // Read exactly n bytes at the current position; throws naming the path if the file ends early.
    void read_exact(void* dst, size_t n);

  private:
    std::string path_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

// The sink handed to a streaming atomic writer: every write is checked and throws on failure.
class FileSink {
  public:
    void write(const void* data, size_t n);
    void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }

  private:
    friend void write_file_atomic(const std::string&, const std::function<void(FileSink&)>&);
    FileSink(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
    std::FILE* f_;
    const std::string& path_;  // the final path, for error messages
};

void write_file_atomic(const std::string& path, std::string_view bytes);
void write_file_atomic(const std::string& path, const std::function<void(FileSink&)>& writer);

// fsync a directory, so the renames and creations inside it survive a power loss.
void sync_directory(const std::string& dir);

// mkdir -p: create `path` and any missing parents (0777 & ~umask). Fine if it already is a
// directory; throws naming the component when something else is in the way or mkdir fails.
void ensure_directory(const std::string& path);

}  // namespace splatlm
