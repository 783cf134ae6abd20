// device.h — where a tensor's storage lives. CPU is always present; CUDA when built with nvcc.
#pragma once
#include <string>

namespace splatlm {

enum class Device { CPU, CUDA };

inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }
Device parse_device(const std::string& name);  // "cpu" | "cuda", else a clear error

}  // namespace splatlm
