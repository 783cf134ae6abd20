// safetensors.cpp — writing and strictly validating safetensors files (layout in safetensors.h).
//
// Loading reads the 8-byte length and the header, validates the whole header against the file
// size before allocating any tensor, then streams each tensor's bytes straight into its storage.
// Validation requires the tensors' byte ranges to tile the data buffer exactly (sorted by
// offset: no overlap, no gap, nothing after the last one), which is also what makes the
// sequential read correct.
#include "train/safetensors.h"

#include <algorithm>
#include <bit>
#include <tuple>
#include <unordered_set>

#include <zlib.h>

#include "tensor/error.h"
#include "tensor/file_io.h"
#include "train/json.h"

namespace splatlm {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data and this code copies it raw; add byte swapping for this host");

namespace {

constexpr const char* kMetadataKey = "__metadata__";
constexpr const char* kChecksumKey = "crc32";  // in __metadata__: {"<tensor name>": "<8 hex digits>", ...}
constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the limit the reference implementation uses too

template <class... Parts>
[[noreturn]] void bad_file(const std::string& path, const Parts&... parts) {
    fail("load_safetensors '", path, "': ", parts...);
}

// One tensor as described by the header, checked against the data buffer size.
struct Entry {
    std::string name;
    Shape shape;
    uint64_t begin = 0, end = 0;
};

Shape parse_shape(const std::string& path, const std::string& name, const Json& value) {
    const auto invalid = [&] {
        bad_file(path, "tensor \"", name, "\" has invalid shape ", value.is_array() ? value.dump() : value.describe(),
                 ": expected an array of non-negative integers");
    };
    if (!value.is_array()) invalid();
    Shape shape;
    for (const Json& d : value.as_array()) {
        if (!d.is_int() || d.as_int() < 0) invalid();
        shape.push_back(d.as_int());
    }
    return shape;
}

Entry parse_entry(const std::string& path, const std::string& name, const Json& value, uint64_t buffer_bytes) {
    if (!value.is_object())
        bad_file(path, "tensor \"", name, "\" is described by ", value.describe(),
                 ", expected an object with dtype, shape and data_offsets");
    for (const auto& [key, _] : value.as_object())
        if (key != "dtype" && key != "shape" && key != "data_offsets")
            bad_file(path, "tensor \"", name, "\" has unexpected key \"", key, "\"");
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!value.contains(key)) bad_file(path, "tensor \"", name, "\" has no \"", key, "\"");

    const Json& dtype = value.at("dtype");
    if (!dtype.is_string()) bad_file(path, "tensor \"", name, "\" has dtype ", dtype.describe(), ", expected a string");
    if (dtype.as_string() != "F32")
        bad_file(path, "tensor \"", name, "\" has dtype ", dtype.as_string(), "; only F32 is supported");

    Entry e{name, parse_shape(path, name, value.at("shape"))};

    const Json& offsets = value.at("data_offsets");
    const bool well_formed = offsets.is_array() && offsets.size() == 2 && offsets.at(0).is_int() &&
                             offsets.at(1).is_int() && offsets.at(0).as_int() >= 0 && offsets.at(1).as_int() >= 0;
    if (!well_formed)
        bad_file(path, "tensor \"", name, "\" has invalid data_offsets ",
                 offsets.is_array() ? offsets.dump() : offsets.describe(),
                 ": expected [begin, end] with non-negative integers");
    e.begin = static_cast<uint64_t>(offsets.at(0).as_int());
    e.end = static_cast<uint64_t>(offsets.at(1).as_int());
    if (e.end < e.begin) bad_file(path, "tensor \"", name, "\" has data_offsets ", offsets.dump(), " with end < begin");
    if (e.end > buffer_bytes)
        bad_file(path, "tensor \"", name, "\" has data_offsets ", offsets.dump(), " beyond the ", buffer_bytes,
                 "-byte data buffer");

    uint64_t bytes = sizeof(float);
    for (int64_t d : e.shape)
        if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
            bad_file(path, "tensor \"", name, "\" has shape ", shape_str(e.shape), ", too large to address");
    if (bytes != e.end - e.begin)
        bad_file(path, "tensor \"", name, "\" has data_offsets ", offsets.dump(), " spanning ", e.end - e.begin,
                 " bytes, but F32 shape ", shape_str(e.shape), " needs ", bytes);
    return e;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const Json& value) {
    if (!value.is_object())
        bad_file(path, kMetadataKey, " is ", value.describe(), ", expected an object of strings");
    std::map<std::string, std::string> metadata;
    for (const auto& [key, v] : value.as_object()) {
        if (!v.is_string()) bad_file(path, kMetadataKey, " value for \"", key, "\" is ", v.describe(), ", not a string");
        metadata.emplace(key, v.as_string());
    }
    return metadata;
}

// Indices of `entries` in data-buffer order (by begin, then end; empty tensors first at a tie).
std::vector<size_t> offset_order(const std::vector<Entry>& entries) {
    std::vector<size_t> order(entries.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return std::tie(entries[a].begin, entries[a].end) < std::tie(entries[b].begin, entries[b].end);
    });
    return order;
}

// The byte ranges, taken in offset order, must tile [0, buffer_bytes) exactly.
void check_coverage(const std::string& path, const std::vector<Entry>& entries, const std::vector<size_t>& order,
                    uint64_t buffer_bytes) {
    uint64_t covered = 0;
    const Entry* previous = nullptr;
    for (size_t i : order) {
        const Entry& e = entries[i];
        if (e.begin > covered)
            bad_file(path, "gap in the data buffer: bytes [", covered, ", ", e.begin, ") before tensor \"", e.name,
                     "\" belong to no tensor");
        if (e.begin < covered)
            bad_file(path, "tensors \"", previous->name, "\" [", previous->begin, ", ", previous->end, ") and \"",
                     e.name, "\" [", e.begin, ", ", e.end, ") overlap");
        covered = e.end;
        previous = &e;
    }
    if (covered != buffer_bytes)
        bad_file(path, "the data buffer has ", buffer_bytes - covered, " bytes after the last tensor (at ", covered,
                 ") that belong to no tensor");
}

// CRC-32 (zlib's, the one gzip and PNG use) of a tensor's bytes as 8 lowercase hex digits.
std::string crc32_hex(const void* bytes, size_t n) {
    uLong crc = ::crc32(0L, Z_NULL, 0);
    for (size_t done = 0; done < n;) {  // zlib takes at most 4 GiB (uInt) per call
        const uInt chunk = static_cast<uInt>(std::min<size_t>(n - done, 1u << 30));
        crc = ::crc32(crc, static_cast<const Bytef*>(bytes) + done, chunk);
        done += chunk;
    }
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08lx", static_cast<unsigned long>(crc));
    return hex;
}

// Moves the "crc32" entry out of the metadata into name → checksum (empty when the file has none).
std::map<std::string, std::string> take_checksums(const std::string& path, std::map<std::string, std::string>& metadata) {
    std::map<std::string, std::string> sums;
    const auto it = metadata.find(kChecksumKey);
    if (it == metadata.end()) return sums;
    Json parsed;
    try {
        parsed = Json::parse(it->second);
    } catch (const Error& e) {
        bad_file(path, kMetadataKey, " \"", kChecksumKey, "\" is not valid JSON: ", e.what());
    }
    if (!parsed.is_object()) bad_file(path, kMetadataKey, " \"", kChecksumKey, "\" is not an object");
    for (const auto& [name, sum] : parsed.as_object()) {
        if (!sum.is_string()) bad_file(path, "the checksum of tensor \"", name, "\" is not a string");
        sums.emplace(name, sum.as_string());
    }
    metadata.erase(it);
    return sums;
}

// Each tensor's stored checksum against its bytes; files without checksums load unverified.
void verify_checksums(const SafetensorsFile& file, const std::map<std::string, std::string>& sums) {
    if (sums.empty()) return;
    for (const auto& [name, t] : file.tensors) {
        const auto sum = sums.find(name);
        if (sum == sums.end()) bad_file(file.path, "tensor \"", name, "\" has no checksum");
        const std::string actual = crc32_hex(t.data(), static_cast<size_t>(t.numel()) * sizeof(float));
        if (actual != sum->second)
            bad_file(file.path, "tensor \"", name, "\" fails its checksum (crc32 ", actual, ", stored ", sum->second,
                     "): the file is damaged (--no-verify loads it anyway)");
    }
}

}  // namespace

const Tensor& SafetensorsFile::at(const std::string& name) const {
    for (const auto& [n, t] : tensors)
        if (n == name) return t;
    fail("'", path, "' has no tensor \"", name, "\"");
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
    NamedTensors data = tensors;
    std::unordered_set<std::string> names;
    Json::Object entries, checksums;
    uint64_t offset = 0;
    for (auto& [name, t] : data) {
        SPLATLM_CHECK(name != kMetadataKey, "save_safetensors '", path, "': \"", kMetadataKey,
                      "\" is reserved and cannot name a tensor");
        SPLATLM_CHECK(names.insert(name).second, "save_safetensors '", path, "': duplicate tensor name \"", name, "\"");
        SPLATLM_CHECK(t.defined(), "save_safetensors '", path, "': tensor \"", name, "\" is undefined");
        SPLATLM_CHECK(t.device() == Device::CPU, "save_safetensors '", path, "': tensor \"", name, "\" is on ",
                      device_name(t.device()), "; copy it to the CPU first");
        if (!t.is_contiguous()) t = t.clone();  // logical row-major order; checksum and data from the same bytes
        Json::Array shape(t.shape().begin(), t.shape().end());
        const uint64_t bytes = static_cast<uint64_t>(t.numel()) * sizeof(float);
        entries.emplace_back(name, Json::Object{{"dtype", "F32"},
                                                {"shape", std::move(shape)},
                                                {"data_offsets", Json::Array{offset, offset + bytes}}});
        checksums.emplace_back(name, crc32_hex(t.data(), bytes));
        offset += bytes;
    }
    std::string text;
    try {
        std::map<std::string, std::string> all_metadata = metadata;
        if (!data.empty()) all_metadata[kChecksumKey] = Json(std::move(checksums)).dump();
        Json::Object header;
        if (!all_metadata.empty()) {
            Json::Object meta;
            for (const auto& [k, v] : all_metadata) meta.emplace_back(k, v);
            header.emplace_back(kMetadataKey, std::move(meta));
        }
        for (auto& entry : entries) header.push_back(std::move(entry));
        text = Json(std::move(header)).dump();
    } catch (const Error& e) {
        fail("save_safetensors '", path, "': ", e.what());
    }
    text.append((8 - text.size() % 8) % 8, ' ');  // 8 + N ≡ 0 (mod 8): the data buffer starts aligned

    unsigned char length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(static_cast<uint64_t>(text.size()) >> (8 * i));

    write_file_atomic(path, [&](FileSink& sink) {
        sink.write(length, sizeof length);
        sink.write(text);
        for (const auto& [name, t] : data) sink.write(t.data(), static_cast<size_t>(t.numel()) * sizeof(float));
    });
}

SafetensorsFile load_safetensors(const std::string& path, bool verify) {
    InputFile file(path);
    const uint64_t size = file.size();
    if (size < 8) bad_file(path, "file is ", size, " bytes, too short for the 8-byte header length");
    unsigned char length[8];
    file.read_exact(length, sizeof length);
    uint64_t header_bytes = 0;
    for (int i = 0; i < 8; ++i) header_bytes |= static_cast<uint64_t>(length[i]) << (8 * i);
    if (header_bytes > size - 8)
        bad_file(path, "header length ", header_bytes, " runs past the end of the file (", size - 8,
                 " bytes follow the length field)");
    if (header_bytes > kMaxHeaderBytes)
        bad_file(path, "header length ", header_bytes, " exceeds the ", kMaxHeaderBytes, "-byte limit");

    std::string text(header_bytes, '\0');
    file.read_exact(text.data(), text.size());
    Json header;
    try {
        header = Json::parse(text);
    } catch (const Error& e) {
        bad_file(path, "header is not valid JSON: ", e.what());
    }
    if (!header.is_object()) bad_file(path, "header is ", header.describe(), ", expected a JSON object");

    SafetensorsFile result;
    result.path = path;
    const uint64_t buffer_bytes = size - 8 - header_bytes;
    std::vector<Entry> entries;
    for (const auto& [name, value] : header.as_object()) {
        if (name == kMetadataKey)
            result.metadata = parse_metadata(path, value);
        else
            entries.push_back(parse_entry(path, name, value, buffer_bytes));
    }
    const std::map<std::string, std::string> checksums = take_checksums(path, result.metadata);
    const std::vector<size_t> order = offset_order(entries);
    check_coverage(path, entries, order, buffer_bytes);

    // The ranges tile the buffer, so reading them in offset order consumes it front to back.
    std::vector<Tensor> loaded(entries.size());
    for (size_t i : order) {
        loaded[i] = Tensor::empty(entries[i].shape);
        file.read_exact(loaded[i].data(), entries[i].end - entries[i].begin);
    }
    for (size_t i = 0; i < entries.size(); ++i) result.tensors.emplace_back(entries[i].name, std::move(loaded[i]));
    if (verify) verify_checksums(result, checksums);
    return result;
}

}  // namespace splatlm
