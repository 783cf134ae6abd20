// run_lock.h — one writer per run directory: an advisory lock (flock) on <dir>/.lock, held for
// the life of the object and released by the kernel when the process ends, however it ends (a
// kill -9 leaves no stale lock). A second `splatlm train` on the same directory gets one clear
// error instead of two runs overwriting each other's checkpoints. Test: ./bin/tests "[lock]".
#pragma once
#include <string>

namespace splatlm {

class RunLock {
  public:
    explicit RunLock(const std::string& run_dir);  // throws naming the directory when another process holds it
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

  private:
    int fd_ = -1;
};

}  // namespace splatlm
