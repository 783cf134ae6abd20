// safetensors.h — checkpoints in the safetensors format (readable by the Python `safetensors`
// package, PyTorch, numpy ...), float32 only.
//
// Layout of a file:
//   bytes [0, 8)        N, the header length: unsigned 64-bit little-endian
//   bytes [8, 8+N)      the header: a JSON object, UTF-8. Each tensor name maps to
//                         {"dtype":"F32","shape":[d0,d1,...],"data_offsets":[begin,end]}
//                       with offsets in bytes relative to the start of the data buffer; the
//                       optional key "__metadata__" maps to an object of string → string.
//                       We pad it with trailing spaces so the data buffer starts 8-byte aligned.
//   bytes [8+N, EOF)    the data buffer: each tensor's elements, row-major, little-endian.
//
// save_safetensors also stores a CRC-32 of every tensor's bytes in __metadata__ under "crc32"
// (compact JSON: tensor name → 8 hex digits); load_safetensors verifies them when present and
// leaves that key out of SafetensorsFile::metadata.
//
// save_safetensors writes the tensors in the order given, back to back, via an atomic write
// (file_io.h), so a crash mid-save never damages the previous checkpoint. load_safetensors trusts
// nothing: every structural problem is a splatlm::Error naming the file and the problem.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace splatlm {

struct SafetensorsFile {
    std::string path;                             // where it was loaded from, for error messages
    NamedTensors tensors;                         // in header order, contiguous CPU tensors
    std::map<std::string, std::string> metadata;  // "__metadata__", empty when absent

    const Tensor& at(const std::string& name) const;  // throws naming the file and the tensor
};

// Write `tensors` (CPU, any strides: written in logical row-major order) and `metadata`
// atomically to `path`. Names must be unique and not "__metadata__"; strings must be UTF-8.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Read and validate a whole file; F32 tensors only (other dtypes are named in the error). With
// `verify`, a tensor whose bytes do not match its stored checksum is an error naming it.
SafetensorsFile load_safetensors(const std::string& path, bool verify = true);

}  // namespace splatlm
