// run_lock.cpp — RunLock (train/run_lock.h): flock(LOCK_EX | LOCK_NB) on <dir>/.lock.
#include "train/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tensor/error.h"

namespace splatlm {

RunLock::RunLock(const std::string& run_dir) {
    const std::string path = run_dir + "/.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);  // never through a symlink
    SPLATLM_CHECK(fd_ >= 0, "cannot open the lock file '", path, "': ", std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd_);
        fd_ = -1;
        SPLATLM_CHECK(err != EWOULDBLOCK, "'", run_dir, "' is in use: another splatlm process is training in it (",
                      path, " is locked)");
        fail("cannot lock '", path, "': ", std::strerror(err));
    }
}

RunLock::~RunLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the lock
}

}  // namespace splatlm
