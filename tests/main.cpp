// The Catch2 (v2) runner: the only translation unit that instantiates Catch's main().
//
// The suite sizes its OpenMP team to the free cores, as a training does (tensor/free_cores.h): a
// listener re-measures at the start of every section (at most every 0.2 s). So `make test` run
// beside a training takes the core the training leaves free instead of both, and neither program
// waits at its barriers for the other. Results do not depend on the team size; tests that need a
// particular team set it themselves (`with_threads`, helpers.h).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "tensor/free_cores.h"

namespace {

struct FreeCoresListener : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void sectionStarting(const Catch::SectionInfo& section) override {
        TestEventListenerBase::sectionStarting(section);  // the base keeps the stack sectionEnded pops
        static splatlm::FreeCoreThreads free_cores;  // one for the run, made at the first section
        free_cores.update();
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(FreeCoresListener)
