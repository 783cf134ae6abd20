#include "train/metrics_log.h"

#include <cerrno>
#include <cstring>
#include <sstream>

#include "tensor/error.h"
#include "tensor/file_io.h"

namespace splatlm {

MetricsLog::MetricsLog(const std::string& path, int64_t keep_through_step) : path_(path) {
    if (keep_through_step >= 0) {
        std::string kept;
        std::istringstream in(read_file(path));
        for (std::string line; std::getline(in, line);) {
            if (line.empty()) continue;
            const Json record = Json::parse(line);
            if (record.at("step").as_int() <= keep_through_step) kept += line + "\n";
        }
        write_file_atomic(path, kept);
    }
    file_ = std::fopen(path.c_str(), keep_through_step >= 0 ? "a" : "w");
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
