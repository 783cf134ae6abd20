// commands.h — the table of bin/splatlm subcommands. Each `run` gets the full argv (argv[1] is its
// name), parses its own options with train/args.h and returns the process exit code.
#pragma once
#include <vector>

namespace splatlm {

struct Command {
    const char* name;
    const char* summary;
    int (*run)(int argc, char** argv);
};

const std::vector<Command>& commands();

int cmd_train(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_chat(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_task(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_viz(int argc, char** argv);
int cmd_doctor(int argc, char** argv);
int cmd_bench(int argc, char** argv);

}  // namespace splatlm
