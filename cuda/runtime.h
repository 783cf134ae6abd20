// runtime.h — the only CUDA entry points the layers above see. Implemented in runtime.cu when
// nvcc is present, and by runtime_stub.cpp (clear "built without CUDA" errors) when it is not,
// so a CPU-only build links and `--device cuda` fails with one readable line.
#pragma once
#include <cstddef>
#include <string>

namespace splatlm::cuda {

bool built_with_cuda();
// True when a usable GPU is present; otherwise false with the reason (no driver, no device, ...).
bool available(std::string* why_not = nullptr);
void* device_malloc(size_t bytes);
void device_free(void* ptr);
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void copy_device_to_device(void* dst, const void* src, size_t bytes);

}  // namespace splatlm::cuda
