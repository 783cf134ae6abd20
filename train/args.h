// args.h — the command-line parser every subcommand uses: `--key value` and `--flag`,
// a fixed list of known options per subcommand, and one clear error line for anything else.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace splatlm {

struct OptionSpec {
    std::string name;     // without the leading "--"
    bool takes_value;     // false: a boolean flag
    std::string help;     // one line for --help
};

class Args {
  public:
    // Parses argv[first..argc). Unknown options, missing values and stray words throw splatlm::Error.
    Args(const std::string& command, const std::vector<OptionSpec>& specs, int argc, char** argv, int first);
    Args(const std::string& command, const std::vector<OptionSpec>& specs, const std::vector<std::string>& words);

    bool help() const { return help_; }
    std::string usage() const;  // "usage: splatlm <command> [options]" + one line per option

    bool has(const std::string& name) const { return values_.count(name) > 0; }
    bool flag(const std::string& name) const { return has(name); }
    std::string get(const std::string& name, const std::string& fallback) const;
    int64_t get_int(const std::string& name, int64_t fallback) const;      // rejects "12x", "abc"
    double get_double(const std::string& name, double fallback) const;    // rejects non-numbers, NaN
    const std::map<std::string, std::string>& values() const { return values_; }

  private:
    void parse(const std::vector<std::string>& words);
    std::string command_;
    std::vector<OptionSpec> specs_;
    std::map<std::string, std::string> values_;
    bool help_ = false;
};

// Strict number parsing shared by the CLI and config files; `what` names the setting in errors.
int64_t parse_int(const std::string& text, const std::string& what);
double parse_double(const std::string& text, const std::string& what);

}  // namespace splatlm
