// main.cpp — bin/splatlm: one binary, one subcommand per job. Every error that reaches here is a
// splatlm::Error (bad input) or std::exception; it is printed as one line and the exit code is 1.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "dist/communicator.h"
#include "splat/register.h"
#include "tensor/storage.h"

int main(int argc, char** argv) {
    using namespace splatlm;
    // Process-wide settings belong to the program, not the library: they are made here, once.
    tune_allocator_for_reuse();   // keep big activation blocks in malloc's heap across steps
    register_splat_attentions();  // nn/ cannot name splat/: the top of the program adds its kinds
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        std::printf("usage: splatlm <command> [options]   (splatlm <command> --help for its options)\n\ncommands:\n");
        for (const Command& c : commands()) std::printf("  %-10s %s\n", c.name, c.summary);
        return argc < 2 ? 2 : 0;
    }
    for (const Command& c : commands()) {
        if (std::strcmp(argv[1], c.name) != 0) continue;
        try {
            return c.run(argc, argv);
        } catch (const dist::EveryRankError& e) {  // the same line from every rank: rank 0 says it
            if (e.rank == 0) std::fprintf(stderr, "splatlm %s: error: %s\n", c.name, e.what());
            return 1;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "splatlm %s: error: %s\n", c.name, e.what());
            return 1;
        }
    }
    std::fprintf(stderr, "splatlm: unknown command '%s' (see splatlm --help)\n", argv[1]);
    return 2;
}
