// The Catch2 (v2) runner: the only translation unit that instantiates Catch's main().
//
// The suite sizes its OpenMP team to the free cores, as a training does (tensor/free_cores.h): a
// listener re-measures at the start of every run of a test case (each GENERATE value too; at most
// every 0.2 s), never inside one, so a test that sets its own team (`with_threads`, helpers.h) keeps
// it. `make test` beside a training then takes the core the training leaves free instead of both,
// and neither program waits at its barriers for the other. Results do not depend on the team size.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "tensor/free_cores.h"

namespace {

struct FreeCoresListener : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void sectionStarting(const Catch::SectionInfo& section) override {
        if (open_sections_++ == 0) {  // the test case's own section: a run of it begins
            static splatlm::FreeCoreThreads free_cores;  // one for the whole suite
            free_cores.update();
        }
        TestEventListenerBase::sectionStarting(section);  // the base keeps the stack sectionEnded pops
    }
    void sectionEnded(const Catch::SectionStats& stats) override {
        --open_sections_;
        TestEventListenerBase::sectionEnded(stats);
    }

private:
    int open_sections_ = 0;
};

}  // namespace

CATCH_REGISTER_LISTENER(FreeCoresListener)
