// The include graph keeps the layers honest: every `#include "folder/…"` in every source file
// must point to the file's own folder or to one below it. `make check-layers` runs just this.
//
// Allowed dependencies (folder → folders it may include from):
//   cuda     → cuda, tensor
//   tensor   → tensor, cuda
//   dist     → dist, tensor, cuda
//   autograd → autograd, tensor, cuda
//   nn       → nn, autograd, tensor, cuda
//   splat    → splat, nn, autograd, tensor, cuda
//   viz      → viz, splat, nn, autograd, tensor, cuda
//   train    → train, viz, splat, nn, autograd, tensor, cuda, dist
//   serve    → serve, train, splat, nn, autograd, tensor, cuda
//   bench    → bench, serve, train, viz, splat, nn, autograd, tensor, cuda, dist
//   cli      → everything but tests
//   fuzz     → train and below (libFuzzer harnesses, `make fuzz`)
//   tests    → anything
// A top-level folder holding source files that is not in this table fails the test: a new
// folder must be placed in the layers first. Two more rules: no file includes a CUDA source
// (.cu), and only CUDA files (.cu, .cuh) include a .cuh header, so g++ never meets CUDA code.
// Run from the repo root (as `make test` does); hidden folders and build/, bin/, runs/ are skipped.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::map<std::string, std::set<std::string>>& allowed() {
    static const std::map<std::string, std::set<std::string>> table = {
        {"cuda", {"cuda", "tensor"}},
        {"tensor", {"tensor", "cuda"}},
        {"dist", {"dist", "tensor", "cuda"}},
        {"autograd", {"autograd", "tensor", "cuda"}},
        {"nn", {"nn", "autograd", "tensor", "cuda"}},
        {"splat", {"splat", "nn", "autograd", "tensor", "cuda"}},
        {"viz", {"viz", "splat", "nn", "autograd", "tensor", "cuda"}},
        {"train", {"train", "viz", "splat", "nn", "autograd", "tensor", "cuda", "dist"}},
        {"serve", {"serve", "train", "splat", "nn", "autograd", "tensor", "cuda"}},
        {"bench", {"bench", "serve", "train", "viz", "splat", "nn", "autograd", "tensor", "cuda", "dist"}},
        {"cli", {"cli", "bench", "serve", "train", "viz", "splat", "nn", "autograd", "tensor", "cuda", "dist"}},
        {"fuzz", {"fuzz", "train", "viz", "splat", "nn", "autograd", "tensor", "cuda", "dist"}},
        {"tests", {"tests", "cli", "bench", "serve", "train", "viz", "splat", "nn", "autograd", "tensor", "cuda", "dist"}},
    };
    return table;
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string joined(const std::set<std::string>& names) {
    std::string list;
    for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
    return list;
}

bool is_source(const fs::path& p) {
    static const std::set<std::string> exts = {".h", ".hpp", ".c", ".cc", ".cpp", ".cu", ".cuh"};
    return exts.count(p.extension().string()) > 0;
}

// The forbidden arrows in one file's text, as "file:line: why" lines. `file` is relative to the
// repo root ("viz/canvas.cpp"); its first component is its folder.
std::vector<std::string> violations_in(const std::string& file, const std::string& text) {
    static const std::regex include_line(R"(^\s*#\s*include\s*"([^"]+)\")");
    const std::string folder = file.substr(0, file.find('/'));
    const bool cuda_file = ends_with(file, ".cu") || ends_with(file, ".cuh");
    std::vector<std::string> found;
    std::istringstream in(text);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        std::smatch m;
        if (!std::regex_search(line, m, include_line)) continue;
        const std::string target = m[1].str();
        const size_t slash = target.find('/');
        const std::string to = slash == std::string::npos ? folder : target.substr(0, slash);
        const std::string where = file + ":" + std::to_string(number) + ": ";
        if (ends_with(target, ".cu"))
            found.push_back(where + "includes the CUDA source \"" + target + "\" (compile it, do not include it)");
        else if (ends_with(target, ".cuh") && !cuda_file)
            found.push_back(where + "includes the CUDA header \"" + target + "\" from host C++ (only .cu/.cuh may)");
        const auto rule = allowed().find(folder);
        if (rule == allowed().end()) continue;  // reported once per folder by the tree test
        if (!allowed().count(to))
            found.push_back(where + folder + " -> " + to + " (\"" + target + "\"): " + to + "/ is not in the table");
        else if (!rule->second.count(to))
            found.push_back(where + folder + " -> " + to + " (\"" + target + "\") is not allowed; " + folder +
                            " may include from: " + joined(rule->second));
    }
    return found;
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("the layer check itself: it sees forbidden arrows and CUDA includes", "[layers]") {
    REQUIRE(violations_in("viz/a.cpp", "#include \"splat/x.h\"\n#include \"viz/y.h\"\n#include <vector>\n").empty());
    REQUIRE(violations_in("cuda/a.cu", "#include \"cuda/block_reduce.cuh\"\n#include \"tensor/hd.h\"\n").empty());
    const auto up = violations_in("viz/a.h", "// x\n  #  include \"train/tokenizer.h\"\n");
    REQUIRE(up.size() == 1);
    CHECK(up[0].find("viz/a.h:2: viz -> train") == 0);
    REQUIRE(violations_in("cuda/k.h", "#include \"splat/m.h\"\n").size() == 1);
    REQUIRE(violations_in("tensor/a.cpp", "#include \"cuda/k.cu\"\n").size() == 1);
    REQUIRE(violations_in("tensor/a.cpp", "#include \"cuda/block_reduce.cuh\"\n").size() == 1);
    REQUIRE(violations_in("splat/a.cpp", "#include \"splat_scan.cu\"\n").size() == 1);
    REQUIRE(violations_in("train/a.cpp", "#include \"cli/commands.h\"\n").size() == 1);
    REQUIRE(violations_in("bench/a.cpp", "#include \"tests/helpers.h\"\n").size() == 1);
    REQUIRE(violations_in("cli/a.cpp", "#include \"tests/helpers.h\"\n").size() == 1);
    REQUIRE(violations_in("tests/a.cpp", "#include \"cli/commands.h\"\n#include \"tests/h.h\"\n").empty());
    REQUIRE(violations_in("nn/a.cpp", "#include \"serve/x.h\"\n").size() == 1);
    REQUIRE(violations_in("serve/a.cpp", "#include \"viz/canvas.h\"\n").size() == 1);
    REQUIRE(violations_in("serve/a.cpp", "#include \"cli/commands.h\"\n").size() == 1);
    REQUIRE(violations_in("cli/a.cpp", "#include \"serve/session.h\"\n").empty());
}

TEST_CASE("every #include between folders points down the layers", "[layers]") {
    REQUIRE(fs::exists("Makefile"));  // run from the repo root
    REQUIRE(fs::is_directory("tensor"));
    std::vector<std::string> found;
    int files = 0;
    for (const fs::directory_entry& top : fs::directory_iterator(".")) {
        const std::string folder = top.path().filename().string();
        const bool skipped = folder[0] == '.' || folder == "build" || folder == "bin" || folder == "runs";
        if (!top.is_directory() || skipped) continue;
        bool has_sources = false;
        for (const fs::directory_entry& e : fs::recursive_directory_iterator(top.path())) {
            if (!e.is_regular_file() || !is_source(e.path())) continue;
            has_sources = true;
            ++files;
            const std::string file = fs::relative(e.path(), ".").generic_string();
            for (std::string& v : violations_in(file, read_text(e.path()))) found.push_back(std::move(v));
        }
        if (has_sources && !allowed().count(folder))
            found.push_back(folder + "/: holds source files but is not in the layer table (tests/test_layers.cpp)");
    }
    INFO(files << " source files read");
    REQUIRE(files > 100);
    std::sort(found.begin(), found.end());  // directory order is the file system's
    for (const std::string& v : found) FAIL_CHECK(v);
}
