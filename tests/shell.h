// shell.h — tests that run a command line (bin/splatlm, mpirun) and read its exit code and output.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace splatlm::test {

struct CliResult {
    int code;            // the exit status; -1 when killed by a signal
    std::string output;  // stdout and stderr together
};

inline CliResult run_shell(const std::string& command) {
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    const int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The program the CLI tests run: ./bin/splatlm, or $SPLATLM_BIN (make test-sanitize's build).
inline std::string cli_path() {
    const char* chosen = std::getenv("SPLATLM_BIN");
    return chosen && *chosen ? chosen : "./bin/splatlm";
}

inline CliResult run_cli(const std::string& args) { return run_shell(cli_path() + " " + args); }

}  // namespace splatlm::test
