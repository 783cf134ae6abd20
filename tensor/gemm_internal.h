// gemm_internal.h — a switch inside gemm.cpp that tests need; not part of the gemm interface.
#pragma once

namespace splatlm::gemm_detail {

// Enables or disables the busy-host guard (gemm.cpp: after a threaded call that took longer
// than one thread would have, calls run single-threaded for a while) and clears its state.
// Returns the previous setting. Tests that must see two threads at work turn it off.
bool set_busy_host_guard(bool enabled);

}  // namespace splatlm::gemm_detail
