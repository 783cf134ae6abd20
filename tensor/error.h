// error.h — the one way splatlm reports bad input: an exception with a one-line message
// that names the operation and the shapes involved. The CLI catches it, prints it and exits 1.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace splatlm {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
    os << first;
    append(os, rest...);
}
}  // namespace detail

// Builds a message from any streamable pieces: fail("matmul: ", shape_str(a), " vs ", ...).
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
    std::ostringstream os;
    detail::append(os, parts...);
    throw Error(os.str());
}

}  // namespace splatlm

// SPLATLM_CHECK(cond, pieces...): throw splatlm::Error built from pieces when cond is false.
#define SPLATLM_CHECK(cond, ...)              \
    do {                                      \
        if (!(cond)) ::splatlm::fail(__VA_ARGS__); \
    } while (0)
