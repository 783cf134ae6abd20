#include "train/args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "tensor/error.h"

namespace splatlm {

Args::Args(const std::string& command, const std::vector<OptionSpec>& specs, int argc, char** argv, int first)
    : command_(command), specs_(specs) {
    parse(std::vector<std::string>(argv + std::min(first, argc), argv + argc));
}

Args::Args(const std::string& command, const std::vector<OptionSpec>& specs, const std::vector<std::string>& words)
    : command_(command), specs_(specs) {
    parse(words);
}

void Args::parse(const std::vector<std::string>& words) {
    for (size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (w == "--help" || w == "-h") {
            help_ = true;
            continue;
        }
        SPLATLM_CHECK(w.rfind("--", 0) == 0 && w.size() > 2, command_, ": unexpected argument '", w,
                      "' (see splatlm ", command_, " --help)");
        std::string name = w.substr(2), value;
        size_t eq = name.find('=');
        bool inline_value = eq != std::string::npos;
        if (inline_value) value = name.substr(eq + 1), name = name.substr(0, eq);
        // --log-every and --log_every name the same option.
        auto same = [](const std::string& a, const std::string& b) {
            if (a.size() != b.size()) return false;
            for (size_t k = 0; k < a.size(); ++k)
                if (a[k] != b[k] && !((a[k] == '-' || a[k] == '_') && (b[k] == '-' || b[k] == '_'))) return false;
            return true;
        };
        const OptionSpec* spec = nullptr;
        for (const auto& s : specs_)
            if (same(s.name, name)) spec = &s;
        if (spec) name = spec->name;
        SPLATLM_CHECK(spec, command_, ": unknown option --", name, " (see splatlm ", command_, " --help)");
        if (spec->takes_value && !inline_value) {
            SPLATLM_CHECK(i + 1 < words.size(), command_, ": option --", name, " needs a value");
            value = words[++i];
        }
        SPLATLM_CHECK(spec->takes_value || !inline_value, command_, ": option --", name, " takes no value");
        values_[name] = spec->takes_value ? value : "1";
    }
}

std::string Args::usage() const {
    std::string u = "usage: splatlm " + command_ + " [options]\n";
    for (const auto& s : specs_) {
        std::string left = "  --" + s.name + (s.takes_value ? " VALUE" : "");
        if (left.size() < 26) left.resize(26, ' ');
        u += left + " " + s.help + "\n";
    }
    return u;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

int64_t Args::get_int(const std::string& name, int64_t fallback) const {
    return has(name) ? parse_int(values_.at(name), "--" + name) : fallback;
}

double Args::get_double(const std::string& name, double fallback) const {
    return has(name) ? parse_double(values_.at(name), "--" + name) : fallback;
}

int64_t parse_int(const std::string& text, const std::string& what) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(text.c_str(), &end, 10);
    SPLATLM_CHECK(!text.empty() && end && *end == '\0' && errno == 0, what, ": expected an integer, got '", text, "'");
    return v;
}

double parse_double(const std::string& text, const std::string& what) {
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    SPLATLM_CHECK(!text.empty() && end && *end == '\0' && errno == 0 && std::isfinite(v), what,
                  ": expected a finite number, got '", text, "'");
    return v;
}

}  // namespace splatlm
