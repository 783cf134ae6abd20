// file_io.cpp — POSIX implementation of file_io.h: whole-file and streamed reads, the atomic
// write protocol (temp file → fsync → rename → fsync directory) and mkdir -p.
#include "tensor/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "tensor/error.h"

namespace splatlm {
namespace {

std::string os_error() { return std::strerror(errno); }

// "dir/name" → "dir"; "name" → "."; "/name" → "/".
std::string parent_directory(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Owns the temp file of one atomic write: closes and deletes it unless the write was committed.
class TempFile {
  public:
    explicit TempFile(const std::string& target) {
        static std::atomic<uint64_t> counter{0};
        const size_t slash = target.find_last_of('/');
        const std::string dir = slash == std::string::npos ? "" : target.substr(0, slash + 1);
        const std::string name = target.substr(dir.size());
        int fd = -1;
        do {  // a leftover name from a crashed process with our pid is skipped, never reused
            path_ = dir + "." + name + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
            fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        } while (fd < 0 && errno == EEXIST);
        if (fd < 0) {
            const std::string reason = os_error();
            fail("cannot write '", target, "': cannot create a temporary file in '", parent_directory(target),
                 "': ", reason);
        }
        file_ = ::fdopen(fd, "wb");
        if (!file_) {
            const std::string reason = os_error();
            ::close(fd);
            ::unlink(path_.c_str());
            fail("cannot write '", target, "': fdopen: ", reason);
        }
    }
    ~TempFile() {
        if (file_) std::fclose(file_);
        if (!committed_) ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    std::FILE* file() const { return file_; }
    const std::string& path() const { return path_; }

    // Flush, fsync and close; after this only rename remains.
    void finish(const std::string& target) {
        if (std::fflush(file_) != 0) fail("cannot write '", target, "': ", os_error());
        if (::fsync(::fileno(file_)) != 0) fail("cannot write '", target, "': fsync: ", os_error());
        std::FILE* f = file_;
        file_ = nullptr;
        if (std::fclose(f) != 0) fail("cannot write '", target, "': close: ", os_error());
    }
    void commit() { committed_ = true; }

  private:
    std::string path_;
    std::FILE* file_ = nullptr;
    bool committed_ = false;
};

void fsync_directory(const std::string& dir, const std::string& target) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("wrote '", target, "' but cannot open its directory to fsync it: ", os_error());
    // Some filesystems cannot fsync a directory (EINVAL); there the rename is as durable as it gets.
    const bool ok = ::fsync(fd) == 0 || errno == EINVAL;
    const std::string reason = ok ? "" : os_error();
    ::close(fd);
    if (!ok) fail("wrote '", target, "' but fsync of its directory failed: ", reason);
}

}  // namespace

// ---- reading ----------------------------------------------------------------

InputFile::InputFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail("cannot open '", path, "' for reading: ", os_error());
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        const std::string reason = os_error();
        ::close(fd_);
        fail("cannot stat '", path, "': ", reason);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        fail("cannot read '", path, "': ", S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() { ::close(fd_); }

void InputFile::read_exact(void* dst, size_t n) {
    auto* out = static_cast<char*>(dst);
    while (n > 0) {
        const ssize_t got = ::read(fd_, out, n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail("cannot read '", path_, "': ", os_error());
        if (got == 0) fail("cannot read '", path_, "': file ends early (", n, " more bytes expected)");
        out += got;
        n -= static_cast<size_t>(got);
    }
}

std::string read_file(const std::string& path) {
    InputFile file(path);
    std::string bytes(file.size(), '\0');
    file.read_exact(bytes.data(), bytes.size());
    return bytes;
}

// ---- atomic writing ---------------------------------------------------------

void FileSink::write(const void* data, size_t n) {
    if (n > 0 && std::fwrite(data, 1, n, f_) != n) fail("cannot write '", path_, "': ", os_error());
}

void write_file_atomic(const std::string& path, const std::function<void(FileSink&)>& writer) {
    SPLATLM_CHECK(!path.empty() && path.back() != '/', "write_file_atomic: '", path, "' does not name a file");
    TempFile temp(path);
    FileSink sink(temp.file(), path);
    writer(sink);
    temp.finish(path);
    if (std::rename(temp.path().c_str(), path.c_str()) != 0)
        fail("cannot write '", path, "': rename from '", temp.path(), "' failed: ", os_error());
    temp.commit();
    fsync_directory(parent_directory(path), path);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
    write_file_atomic(path, [&](FileSink& sink) { sink.write(bytes); });
}

// ---- directories ------------------------------------------------------------

void sync_directory(const std::string& dir) { fsync_directory(dir, dir); }

void ensure_directory(const std::string& path) {
    SPLATLM_CHECK(!path.empty(), "ensure_directory: empty path");
    // Visit every prefix ending before a '/', then the whole path: "a/b/c" → "a", "a/b", "a/b/c".
    for (size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
        const std::string prefix = path.substr(0, end);
        struct stat st {};
        if (::stat(prefix.c_str(), &st) == 0) {
            SPLATLM_CHECK(S_ISDIR(st.st_mode), "ensure_directory: '", prefix, "' exists and is not a directory");
        } else if (errno != ENOENT) {
            fail("ensure_directory: cannot access '", prefix, "': ", os_error());
        } else if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {  // EEXIST: another process won
            fail("ensure_directory: cannot create '", prefix, "': ", os_error());
        }
        if (end == std::string::npos) break;
    }
}

}  // namespace splatlm
