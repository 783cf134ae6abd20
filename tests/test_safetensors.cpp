// test_safetensors.cpp — checkpoint files: save → load round-trips (bitwise), the on-disk layout,
// one test per kind of corruption the loader must reject with a clear message, a file written by
// the reference Python implementation, and the atomic-write / read / mkdir helpers underneath.
#include <catch2/catch.hpp>

#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>

#include "tensor/error.h"
#include "tensor/tensor.h"
#include "tensor/file_io.h"
#include "train/json.h"
#include "train/safetensors.h"

using namespace splatlm;
using Catch::Contains;

namespace {

// A fresh directory under /tmp for one test case, removed with everything in it afterwards.
struct TempDir {
    std::string path;
    TempDir() {
        char name[] = "/tmp/splatlm-test-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        path = name;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name) const { return path + "/" + name; }
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(path)) names.push_back(e.path().filename());
        std::sort(names.begin(), names.end());
        return names;
    }
};

bool same_bits(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape()) return false;
    const std::vector<float> x = a.to_vector(), y = b.to_vector();
    return x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

uint64_t le64(const std::string& bytes) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
    return v;
}

std::string le64_bytes(uint64_t v) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
    return out;
}

// Split a safetensors file into (header text, data buffer) using the length prefix.
std::pair<std::string, std::string> split_file(const std::string& path) {
    const std::string bytes = read_file(path);
    const uint64_t n = le64(bytes);
    return {bytes.substr(8, n), bytes.substr(8 + n)};
}

// Replace the header of an existing file (keeping its data buffer) with edit(header).
void rewrite_header(const std::string& path, const std::function<void(Json&)>& edit) {
    auto [header_text, data] = split_file(path);
    Json header = Json::parse(header_text);
    edit(header);
    const std::string text = header.dump();
    write_file_atomic(path, le64_bytes(text.size()) + text + data);
}

// The entry of tensor `name` inside a parsed header, for editing.
Json& entry(Json& header, const std::string& name) {
    auto& members = header.as_object();
    auto it = std::find_if(members.begin(), members.end(), [&](const auto& kv) { return kv.first == name; });
    REQUIRE(it != members.end());
    return it->second;
}

void erase_key(Json& object, const std::string& key) {
    auto& members = object.as_object();
    members.erase(std::remove_if(members.begin(), members.end(), [&](const auto& kv) { return kv.first == key; }),
                  members.end());
}

// Two 4-element tensors "a" [0,16) and "b" [16,32): small enough to reason about offsets by hand.
void write_two_tensors(const std::string& path) {
    save_safetensors(path, {{"a", Tensor::from_vector({1, 2, 3, 4}, {4})}, {"b", Tensor::from_vector({5, 6, 7, 8}, {4})}},
                     {{"step", "7"}});
}

void require_load_error(const std::string& path, const std::string& message) {
    REQUIRE_THROWS_AS(load_safetensors(path), splatlm::Error);
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains("load_safetensors '" + path + "'") && Contains(message));
}

}  // namespace

TEST_CASE("safetensors: save then load is bitwise identical, in order, incl. scalar, empty and views",
          "[safetensors]") {
    TempDir dir;
    Rng rng(20240611);
    Tensor weight = Tensor::randn({3, 4}, rng);
    Tensor base = Tensor::randn({4, 3}, rng);
    Tensor transposed = Tensor::view_of(base.storage(), {3, 4}, {1, 3}, 0);  // base^T, not contiguous
    Tensor sliced = Tensor::view_of(base.storage(), {2, 2}, {3, 1}, 4);      // rows 1-2, cols 1-2
    REQUIRE_FALSE(transposed.is_contiguous());
    REQUIRE_FALSE(sliced.is_contiguous());
    Tensor special = Tensor::from_vector({std::numeric_limits<float>::quiet_NaN(), -0.f,
                                          std::numeric_limits<float>::infinity(),
                                          std::numeric_limits<float>::denorm_min()},
                                         {4});
    const NamedTensors tensors = {
        {"blocks.0.attn.weight", weight}, {"scalar", Tensor::scalar(-3.25f)}, {"empty", Tensor::zeros({2, 0, 3})},
        {"transposed", transposed},       {"sliced", sliced},                 {"special", special},
        {"bias", Tensor::randn({7}, rng)},
    };
    const std::string path = dir.file("model.safetensors");
    save_safetensors(path, tensors);
    SafetensorsFile loaded = load_safetensors(path);

    CHECK(loaded.path == path);
    CHECK(loaded.metadata.empty());
    REQUIRE(loaded.tensors.size() == tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        INFO(tensors[i].first);
        CHECK(loaded.tensors[i].first == tensors[i].first);
        CHECK(loaded.tensors[i].second.is_contiguous());
        CHECK(same_bits(loaded.tensors[i].second, tensors[i].second));
    }
    CHECK(loaded.at("scalar").shape() == Shape{});
    CHECK(loaded.at("scalar").item() == -3.25f);
    CHECK(loaded.at("empty").shape() == Shape{2, 0, 3});
    // Views are written in logical order: element [i][j] of the transpose is base[j][i].
    CHECK(loaded.at("transposed").at({2, 1}) == base.at({1, 2}));
    CHECK(loaded.at("sliced").at({1, 0}) == base.at({2, 1}));
    REQUIRE_THROWS_WITH(loaded.at("nope"), Contains(path) && Contains("has no tensor \"nope\""));
}

TEST_CASE("safetensors: metadata round-trips", "[safetensors]") {
    TempDir dir;
    const std::map<std::string, std::string> metadata = {
        {"config", R"({"n_layer":2,"d_model":64})"},
        {"tokenizer", "line1\nline2\t\"quoted\" \\ caf\xC3\xA9 \xF0\x9F\x98\x80"},
        {"empty", ""},
    };
    const std::string path = dir.file("m.safetensors");
    save_safetensors(path, {{"w", Tensor::from_vector({1.5f}, {1})}}, metadata);
    CHECK(load_safetensors(path).metadata == metadata);
}

TEST_CASE("safetensors: the layout on disk is what the format specifies", "[safetensors]") {
    TempDir dir;
    Rng rng(7);
    const std::string path = dir.file("layout.safetensors");
    save_safetensors(path, {{"x", Tensor::randn({5}, rng)}, {"y", Tensor::randn({2, 3}, rng)}}, {{"k", "v"}});
    const std::string bytes = read_file(path);
    const uint64_t n = le64(bytes);
    REQUIRE(8 + n <= bytes.size());
    CHECK((8 + n) % 8 == 0);  // data buffer aligned

    const std::string header_text = bytes.substr(8, n);
    const size_t json_end = header_text.find_last_not_of(' ') + 1;
    CHECK(header_text.size() - json_end < 8);  // only the alignment padding follows the JSON
    const Json header = Json::parse(header_text);
    CHECK(header.at("__metadata__").at("k") == Json("v"));
    const Json checksums = Json::parse(header.at("__metadata__").at("crc32").as_string());  // CRC-32 per tensor
    CHECK(checksums.size() == 2);
    CHECK(checksums.at("x").as_string().size() == 8);
    CHECK(header.at("x") == Json::Object{{"dtype", "F32"}, {"shape", Json::Array{5}}, {"data_offsets", Json::Array{0, 20}}});
    CHECK(header.at("y") ==
          Json::Object{{"dtype", "F32"}, {"shape", Json::Array{2, 3}}, {"data_offsets", Json::Array{20, 44}}});
    CHECK(bytes.size() - 8 - n == 44);  // offsets cover the buffer exactly
    // Raw little-endian float32 data in the buffer.
    float first = 0;
    std::memcpy(&first, bytes.data() + 8 + n, sizeof first);
    CHECK(first == load_safetensors(path).at("x").at({0}));
}

TEST_CASE("safetensors: a file written by the Python reference implementation loads", "[safetensors]") {
    // Produced by safetensors 0.8.0 (numpy 2.4): save_file({"layer.weight": (arange(6).reshape(2,3) - 2.5) * 0.75,
    // "scale": array(-1.25), "empty": zeros((0,2))}, metadata={"format": "np", "note": "hé"}), all float32.
    // Note its data order differs from its header order, and "empty" shares offset 0 with "layer.weight".
    const char* hex =
        "e8000000000000007b225f5f6d657461646174615f5f223a7b226e6f7465223a2268c3a9222c22666f726d6174223a22"
        "6e70227d2c22656d707479223a7b226474797065223a22463332222c227368617065223a5b302c325d2c22646174615f"
        "6f666673657473223a5b302c305d7d2c226c617965722e776569676874223a7b226474797065223a22463332222c2273"
        "68617065223a5b322c335d2c22646174615f6f666673657473223a5b302c32345d7d2c227363616c65223a7b22647479"
        "7065223a22463332222c227368617065223a5b5d2c22646174615f6f666673657473223a5b32342c32385d7d7d202020"
        "0000f0bf000090bf0000c0be0000c03e0000903f0000f03f0000a0bf";
    std::string bytes;
    for (size_t i = 0; hex[i]; i += 2) bytes += static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16));
    TempDir dir;
    const std::string path = dir.file("python.safetensors");
    write_file_atomic(path, bytes);

    SafetensorsFile f = load_safetensors(path);
    REQUIRE(f.tensors.size() == 3);
    CHECK(f.tensors[0].first == "empty");
    CHECK(f.tensors[1].first == "layer.weight");
    CHECK(f.tensors[2].first == "scale");
    CHECK(f.at("empty").shape() == Shape{0, 2});
    CHECK(f.at("layer.weight").shape() == Shape{2, 3});
    CHECK(f.at("layer.weight").to_vector() == std::vector<float>{-1.875f, -1.125f, -0.375f, 0.375f, 1.125f, 1.875f});
    CHECK(f.at("scale").shape() == Shape{});
    CHECK(f.at("scale").item() == -1.25f);
    CHECK(f.metadata == std::map<std::string, std::string>{{"format", "np"}, {"note", "h\xC3\xA9"}});
}

TEST_CASE("safetensors: truncated or mis-sized files are rejected", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("c.safetensors");

    SECTION("missing file") {
        REQUIRE_THROWS_WITH(load_safetensors(path), Contains("cannot open '" + path + "'") &&
                                                       Contains("No such file or directory"));
    }
    SECTION("shorter than 8 bytes") {
        write_file_atomic(path, std::string("\x10\0\0", 3));
        require_load_error(path, "file is 3 bytes, too short for the 8-byte header length");
    }
    SECTION("header length beyond the file") {
        write_two_tensors(path);
        const std::string bytes = read_file(path);
        write_file_atomic(path, le64_bytes(bytes.size()) + bytes.substr(8));
        require_load_error(path, "header length " + std::to_string(bytes.size()) + " runs past the end of the file");
        write_file_atomic(path, le64_bytes(~uint64_t{0}) + bytes.substr(8));
        require_load_error(path, "runs past the end of the file");
    }
    SECTION("absurdly large header length") {
        // A sparse file large enough to "hold" a 100 MB + 1 header; nothing that big is read.
        write_file_atomic(path, le64_bytes(100'000'001));
        std::filesystem::resize_file(path, 8 + 100'000'001);
        require_load_error(path, "header length 100000001 exceeds the 100000000-byte limit");
    }
    SECTION("data buffer cut short") {
        write_two_tensors(path);
        std::filesystem::resize_file(path, std::filesystem::file_size(path) - 4);
        require_load_error(path, "tensor \"b\" has data_offsets [16,32] beyond the 28-byte data buffer");
    }
    SECTION("trailing bytes after the last tensor") {
        write_two_tensors(path);
        write_file_atomic(path, read_file(path) + "junk");
        require_load_error(path, "the data buffer has 4 bytes after the last tensor (at 32)");
    }
}

TEST_CASE("safetensors: malformed headers are rejected with the problem named", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("h.safetensors");
    write_two_tensors(path);

    SECTION("header not valid JSON") {
        std::string bytes = read_file(path);
        bytes[8] = 'x';  // the opening '{'
        write_file_atomic(path, bytes);
        require_load_error(path, "header is not valid JSON: JSON parse error at byte 0");
    }
    SECTION("header not an object") {
        rewrite_header(path, [](Json& h) { h = Json::Array{1, 2}; });
        require_load_error(path, "header is array of 2 elements, expected a JSON object");
    }
    SECTION("duplicate tensor names") {
        rewrite_header(path, [](Json& h) {
            Json copy = entry(h, "a");
            h.as_object().emplace_back("a", std::move(copy));  // Json::Object itself does not check uniqueness
        });
        require_load_error(path, "duplicate key \"a\"");
    }
    SECTION("entry not an object") {
        rewrite_header(path, [](Json& h) { entry(h, "a") = 3; });
        require_load_error(path, "tensor \"a\" is described by number 3, expected an object");
    }
    SECTION("entry missing dtype / shape / data_offsets") {
        for (const char* key : {"dtype", "shape", "data_offsets"}) {
            write_two_tensors(path);
            rewrite_header(path, [&](Json& h) { erase_key(entry(h, "b"), key); });
            require_load_error(path, std::string("tensor \"b\" has no \"") + key + "\"");
        }
    }
    SECTION("unexpected key in an entry") {
        rewrite_header(path, [](Json& h) { entry(h, "a").set("extra", 1); });
        require_load_error(path, "tensor \"a\" has unexpected key \"extra\"");
    }
    SECTION("unsupported dtype") {
        rewrite_header(path, [](Json& h) { entry(h, "a").set("dtype", "BF16"); });
        require_load_error(path, "tensor \"a\" has dtype BF16; only F32 is supported");
        rewrite_header(path, [](Json& h) { entry(h, "a").set("dtype", 32); });
        require_load_error(path, "tensor \"a\" has dtype number 32, expected a string");
    }
    SECTION("negative, non-integer or malformed shape") {
        rewrite_header(path, [](Json& h) { entry(h, "a").set("shape", Json::Array{-4}); });
        require_load_error(path, "tensor \"a\" has invalid shape [-4]: expected an array of non-negative integers");
        rewrite_header(path, [](Json& h) { entry(h, "a").set("shape", Json::Array{4.0}); });
        require_load_error(path, "tensor \"a\" has invalid shape [4.0]");
        rewrite_header(path, [](Json& h) { entry(h, "a").set("shape", "4"); });
        require_load_error(path, "tensor \"a\" has invalid shape string \"4\"");
        rewrite_header(path, [](Json& h) { entry(h, "a").set("shape", Json::Array{int64_t{1} << 62, 8}); });
        require_load_error(path, "too large to address");
    }
    SECTION("malformed data_offsets") {
        rewrite_header(path, [](Json& h) { entry(h, "a").set("data_offsets", Json::Array{0}); });
        require_load_error(path, "tensor \"a\" has invalid data_offsets [0]: expected [begin, end]");
        rewrite_header(path, [](Json& h) { entry(h, "a").set("data_offsets", Json::Array{-16, 0}); });
        require_load_error(path, "tensor \"a\" has invalid data_offsets [-16,0]");
    }
    SECTION("end before begin") {
        rewrite_header(path, [](Json& h) { entry(h, "a").set("data_offsets", Json::Array{16, 0}); });
        require_load_error(path, "tensor \"a\" has data_offsets [16,0] with end < begin");
    }
    SECTION("offsets out of range") {
        rewrite_header(path, [](Json& h) { entry(h, "b").set("data_offsets", Json::Array{16, 48}); });
        require_load_error(path, "tensor \"b\" has data_offsets [16,48] beyond the 32-byte data buffer");
    }
    SECTION("byte size does not match the shape") {
        rewrite_header(path, [](Json& h) { entry(h, "a").set("shape", Json::Array{2, 3}); });
        require_load_error(path, "tensor \"a\" has data_offsets [0,16] spanning 16 bytes, but F32 shape [2, 3] needs 24");
    }
    SECTION("overlapping tensors") {
        rewrite_header(path, [](Json& h) { entry(h, "b").set("data_offsets", Json::Array{8, 24}); });
        require_load_error(path, "tensors \"a\" [0, 16) and \"b\" [8, 24) overlap");
    }
    SECTION("gap between tensors") {
        write_file_atomic(path, read_file(path) + std::string(8, '\0'));
        rewrite_header(path, [](Json& h) { entry(h, "b").set("data_offsets", Json::Array{24, 40}); });
        require_load_error(path, "gap in the data buffer: bytes [16, 24) before tensor \"b\"");
    }
    SECTION("metadata values not strings") {
        rewrite_header(path, [](Json& h) { h.set("__metadata__", Json::Object{{"step", 7}}); });
        require_load_error(path, "__metadata__ value for \"step\" is number 7, not a string");
        rewrite_header(path, [](Json& h) { h.set("__metadata__", Json::Array{}); });
        require_load_error(path, "__metadata__ is array of 0 elements, expected an object of strings");
    }
    SECTION("the rewritten header is still accepted when nothing is wrong") {
        rewrite_header(path, [](Json&) {});  // unpadded header: alignment is not required to read
        CHECK(load_safetensors(path).at("b").to_vector() == std::vector<float>{5, 6, 7, 8});
    }
}

TEST_CASE("safetensors: save rejects bad names and tensors before touching the file", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("s.safetensors");
    write_two_tensors(path);
    const std::string before = read_file(path);
    const Tensor t = Tensor::from_vector({1}, {1});
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"w", t}, {"w", t}}), Contains("duplicate tensor name \"w\""));
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"__metadata__", t}}), Contains("is reserved"));
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"u", Tensor()}}), Contains("tensor \"u\" is undefined"));
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"bad\xFFname", t}}), Contains("save_safetensors '" + path + "'") &&
                                                                          Contains("not valid UTF-8"));
    CHECK(read_file(path) == before);
    CHECK(dir.entries() == std::vector<std::string>{"s.safetensors"});
}

TEST_CASE("safetensors: saving into a missing directory fails clearly", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("no/such/dir/model.safetensors");
    REQUIRE_THROWS_WITH(save_safetensors(path, {{"w", Tensor::from_vector({1}, {1})}}),
                        Contains("cannot write '" + path + "'") && Contains("'" + dir.file("no/such/dir") + "'") &&
                            Contains("No such file or directory"));
}

TEST_CASE("file_io: an atomic write that fails halfway leaves the old file and no temp file", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("ckpt.safetensors");
    write_two_tensors(path);
    const std::string good = read_file(path);

    REQUIRE_THROWS_WITH(write_file_atomic(path,
                                          [](FileSink& sink) {
                                              sink.write(std::string(1000, 'x'));
                                              throw splatlm::Error("writer failed halfway");
                                          }),
                        "writer failed halfway");
    CHECK(read_file(path) == good);
    CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
    CHECK(load_safetensors(path).at("a").to_vector() == std::vector<float>{1, 2, 3, 4});
}

TEST_CASE("file_io: atomic writes create and replace files", "[safetensors]") {
    TempDir dir;
    const std::string path = dir.file("f.txt");
    write_file_atomic(path, "first");
    CHECK(read_file(path) == "first");
    write_file_atomic(path, std::string("sec\0ond", 7));
    CHECK(read_file(path) == std::string("sec\0ond", 7));
    write_file_atomic(path, [](FileSink& sink) {
        sink.write("a");
        sink.write("bc", 2);
    });
    CHECK(read_file(path) == "abc");
    write_file_atomic(path, "");
    CHECK(read_file(path).empty());
    CHECK(dir.entries() == std::vector<std::string>{"f.txt"});
    REQUIRE_THROWS_WITH(write_file_atomic(dir.path + "/", "x"), Contains("does not name a file"));
}

TEST_CASE("file_io: read_file names the path and the reason", "[safetensors]") {
    TempDir dir;
    REQUIRE_THROWS_WITH(read_file(dir.file("missing")),
                        Contains("cannot open '" + dir.file("missing") + "' for reading: No such file or directory"));
    REQUIRE_THROWS_WITH(read_file(dir.path), Contains("cannot read '" + dir.path + "': it is a directory"));
}

TEST_CASE("file_io: ensure_directory is mkdir -p", "[safetensors]") {
    TempDir dir;
    const std::string nested = dir.file("a/b/c");
    ensure_directory(nested);
    CHECK(std::filesystem::is_directory(nested));
    ensure_directory(nested);  // already there: fine
    ensure_directory(dir.file("a/b/c/"));
    write_file_atomic(dir.file("a/file"), "x");
    REQUIRE_THROWS_WITH(ensure_directory(dir.file("a/file/sub")),
                        Contains("'" + dir.file("a/file") + "' exists and is not a directory"));
    REQUIRE_THROWS_WITH(ensure_directory(""), Contains("empty path"));
}
