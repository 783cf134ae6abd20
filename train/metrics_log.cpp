// metrics_log.cpp — MetricsLog (train/metrics_log.h): the log cut back to a checkpoint's step on
// resume (damaged lines dropped with one warning), then appended to without following symlinks.
#include "train/metrics_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "tensor/error.h"
#include "tensor/file_io.h"

namespace splatlm {

namespace {

// The step of one log line; -1 when the line is not a JSON object with an integer "step"
// (a partial last line after a full disk or a kill, or garbage).
int64_t step_of_line(const std::string& line) {
    try {
        const Json record = Json::parse(line);
        const Json* step = record.is_object() ? record.find("step") : nullptr;
        return step && step->is_int() ? step->as_int() : -1;
    } catch (const Error&) {
        return -1;
    }
}

// The log's lines up to `step`. Damaged lines are dropped with one warning on stderr.
std::string lines_through(const std::string& path, int64_t step) {
    std::string kept;
    int damaged = 0, first_damaged = 0, number = 0;
    std::istringstream in(read_file(path));
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (line.empty()) continue;
        const int64_t s = step_of_line(line);
        if (s < 0 && !damaged++) first_damaged = number;
        if (s >= 0 && s <= step) kept += line + "\n";
    }
    if (damaged)
        std::fprintf(stderr, "warning: %s: dropped %d damaged line%s (the first is line %d); the log continues from step %lld\n",
                     path.c_str(), damaged, damaged == 1 ? "" : "s", first_damaged, (long long)step);
    return kept;
}

}  // namespace

MetricsLog::MetricsLog(const std::string& path, int64_t keep_through_step) : path_(path) {
    const bool resuming = keep_through_step >= 0 && std::filesystem::is_regular_file(std::filesystem::symlink_status(path));
    if (resuming) write_file_atomic(path, lines_through(path, keep_through_step));  // rename: a symlink is replaced, not followed
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (resuming ? O_APPEND : O_TRUNC), 0666);
    SPLATLM_CHECK(fd >= 0, "metrics: cannot open ", path, ": ",
                  errno == ELOOP ? "it is a symbolic link (splatlm writes no file through one)" : std::strerror(errno));
    file_ = ::fdopen(fd, resuming ? "a" : "w");
    if (!file_) ::close(fd);
    SPLATLM_CHECK(file_, "metrics: cannot open ", path, ": ", std::strerror(errno));
}

MetricsLog::~MetricsLog() {
    if (file_) std::fclose(file_);
}

void MetricsLog::write(const Json& record) {
    const std::string line = record.dump() + "\n";
    SPLATLM_CHECK(std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0,
                  "metrics: cannot write to ", path_, ": ", std::strerror(errno));
}

}  // namespace splatlm
