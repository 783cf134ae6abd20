# splatlm build.  `make` builds lib + CLI, `make test` runs the Catch2 suite (`make test-arm`: on aarch64 under qemu),
# `make bench` runs the benchmarks, `make run` is the main job, `make check-layers` checks the
# include graph against the layers.
# Knobs: NO_OMP=1 (no OpenMP), CUDA=0 (skip nvcc), MPI=0 (skip MPI), DEBUG=1 (-O0 -g), SANITIZE=1 (ASan+UBSan).

# Build in parallel on every core unless told otherwise (make -jN still wins).
ifeq ($(MAKELEVEL)$(filter -j%,$(MAKEFLAGS)),0)
  MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif

CXX      ?= g++
NVCC     ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
BUILD    := build
BIN      := bin

CXXFLAGS := -std=c++20 -Wall -Wextra -Wno-unused-parameter -MMD -MP -I.
LDFLAGS  :=
LDLIBS   := -lm -ldl -lpthread

ifeq ($(DEBUG),1)
  CXXFLAGS += -O0 -g
else
  CXXFLAGS += -O3 -g1
  ifeq ($(shell $(CXX) -march=native -x c++ -E /dev/null >/dev/null 2>&1 && echo yes),yes)
    CXXFLAGS += -march=native
  endif
endif
ifeq ($(SANITIZE),1)
  CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
  LDFLAGS  += -fsanitize=address,undefined
endif
ifeq ($(FUZZ),1)  # set by `make fuzz` (clang): coverage for libFuzzer, ASan + UBSan
  CXXFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
  LDFLAGS  += -fsanitize=address,undefined
endif

# ---- OpenMP -----------------------------------------------------------------
HAVE_OMP := $(if $(filter 1,$(NO_OMP)),no,$(shell echo 'int main(){}' | $(CXX) -fopenmp -x c++ - -o /dev/null >/dev/null 2>&1 && echo yes || echo no))
ifeq ($(HAVE_OMP),yes)
  CXXFLAGS += -fopenmp
  LDFLAGS  += -fopenmp
  OMP_LINE := ✓ OpenMP
else
  CXXFLAGS += -Wno-unknown-pragmas
  OMP_LINE := ✗ OpenMP (NO_OMP=1 or compiler lacks -fopenmp): single-threaded CPU kernels
endif

# ---- CUDA -------------------------------------------------------------------
HAVE_CUDA := $(if $(filter 0,$(CUDA)),no,$(if $(NVCC),yes,no))
CUDA_SRCS := $(wildcard cuda/*.cu splat/*.cu)
ifeq ($(HAVE_CUDA),yes)
  CUDA_HOME := $(patsubst %/bin/nvcc,%,$(NVCC))
  CXXFLAGS  += -DSPLATLM_CUDA=1 -I$(CUDA_HOME)/include
  LDFLAGS   += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64
  LDLIBS    += -lcudart -lcublas -lcurand
  NVCCFLAGS := -std=c++17 -O3 -I. -Xcompiler -fPIC \
               -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
               -gencode arch=compute_90,code=compute_90
  CUDA_OBJS := $(CUDA_SRCS:%.cu=$(BUILD)/%.o)
  CUDA_LINE := ✓ CUDA ($(NVCC))
else
  CUDA_OBJS :=
  CUDA_LINE := ✗ CUDA (CUDA=0 or no nvcc): CPU-only build; CUDA entry points report that they are absent
endif

# ---- MPI (dist/: data-parallel training under mpirun) --------------------------
# Open MPI from Debian; installed here when we are root (as catch2 is), else the ✗ line says how.
# Only dist/mpi.cpp and dist/nccl.cpp see its headers; the programs link its libraries.
ifeq ($(MAKELEVEL)$(filter 0,$(MPI))$(shell command -v mpicxx >/dev/null || echo missing),0missing)
  $(shell if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then (apt-get install -y -qq openmpi-bin libopenmpi-dev \
     || (apt-get update -qq && apt-get install -y -qq openmpi-bin libopenmpi-dev)) >&2; fi)
endif
HAVE_MPI := $(if $(filter 0,$(MPI)),no,$(shell command -v mpicxx >/dev/null && echo yes || echo no))
ifeq ($(HAVE_MPI),yes)
  MPI_CFLAGS := $(shell mpicxx --showme:compile) -DOMPI_SKIP_MPICXX=1  # the C API only
  MPI_LIBS   := $(filter-out -lmpi_cxx,$(shell mpicxx --showme:link))
  MPI_LINE   := ✓ MPI ($(shell command -v mpicxx)): splatlm train --dist mpi under mpirun
else
  MPI_LINE   := ✗ MPI (MPI=0 or no mpicxx: sudo apt-get install openmpi-bin libopenmpi-dev): --dist mpi reports that it is absent
endif
# NCCL (in the CUDA toolkit) needs MPI too: MPI launches the ranks and hands out the NCCL id.
HAVE_NCCL := $(if $(and $(filter yes,$(HAVE_CUDA)),$(filter yes,$(HAVE_MPI)),$(wildcard $(CUDA_HOME)/include/nccl.h)),yes,no)
ifeq ($(HAVE_NCCL),yes)
  MPI_LIBS  += -lnccl
  NCCL_LINE := ✓ NCCL ($(CUDA_HOME)): splatlm train --dist nccl --device cuda
else
  NCCL_LINE := ✗ NCCL (needs nvcc, nccl.h and MPI): --dist nccl reports that it is absent
endif

# ---- third-party headers from Debian packages ---------------------------------
# catch2 (tests) and libstb-dev (PNG output). Installed when we can, else we say how.
define need_pkg
$(if $(wildcard $(1)),,$(shell if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
   (apt-get install -y -qq $(2) || (apt-get update -qq && apt-get install -y -qq $(2))) >&2; fi))$(if $(wildcard $(1)),,$(error $(1) is missing: run `sudo apt-get install $(2)`))
endef
STB_FLAGS := -I/usr/include/stb
STB_LIBS  := -lstb
# libcpp-httplib-dev (splatlm serve): Debian builds it as a library; its header must see the same
# feature macros the library was built with, which pkg-config gives.
HTTP_FLAGS = $(shell pkg-config --cflags cpp-httplib 2>/dev/null)
HTTP_LIBS := -lcpp-httplib
ZLIB_LIBS := -lz  # zlib1g-dev: the CRC-32 of checkpoint tensors

# ---- sources ----------------------------------------------------------------
# The library holds the layers from tensor/ up to train/, viz/ and serve/. The program bin/splatlm adds
# cli/ (main and one file per subcommand) and bench/ (the benchmarks `splatlm bench` runs) on
# top; they are not in the library, so nothing in it can call them.
LIB_DIRS  := tensor autograd nn splat train viz dist serve
APP_SRCS  := $(wildcard cli/*.cpp bench/*.cpp)
APP_OBJS  := $(APP_SRCS:%.cpp=$(BUILD)/%.o)
# *.cu (cuda/, and splat/ for the splat op's own kernels) go through nvcc when CUDA is built;
# *_stub.cpp are the CPU-only stand-ins for them, compiled only when it is not; every other
# cuda/*.cpp is plain host C++ (the caching allocator) and is compiled in every build, so its
# tests run on any machine.
CUDA_STUBS := $(wildcard cuda/*_stub.cpp splat/*_stub.cpp)
LIB_SRCS  := $(filter-out $(CUDA_STUBS),$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.cpp)))
LIB_SRCS  += $(filter-out $(CUDA_STUBS),$(wildcard cuda/*.cpp))
ifeq ($(HAVE_CUDA),no)
  LIB_SRCS += $(CUDA_STUBS)
endif
# dist/mpi.cpp and dist/nccl.cpp, or their stand-ins that say the library is absent.
DIST_OPTIONAL := dist/mpi.cpp dist/mpi_stub.cpp dist/nccl.cpp dist/nccl_stub.cpp
LIB_SRCS  := $(filter-out $(DIST_OPTIONAL),$(LIB_SRCS))
LIB_SRCS  += $(if $(filter yes,$(HAVE_MPI)),dist/mpi.cpp,dist/mpi_stub.cpp)
LIB_SRCS  += $(if $(filter yes,$(HAVE_NCCL)),dist/nccl.cpp,dist/nccl_stub.cpp)
LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/%.o)
TEST_SRCS := $(wildcard tests/*.cpp)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/%.o)
LIB       := $(BUILD)/libsplatlm.a

# Objects depend on a stamp of the flags, so switching NO_OMP/CUDA/DEBUG rebuilds everything.
FLAGS_STAMP := $(BUILD)/flags.stamp
FLAGS_NOW   := $(CXX) $(CXXFLAGS) $(LDFLAGS) $(LDLIBS) $(HAVE_CUDA)
$(shell mkdir -p $(BUILD) && (echo '$(FLAGS_NOW)' | cmp -s - $(FLAGS_STAMP) || echo '$(FLAGS_NOW)' > $(FLAGS_STAMP)))
# Switching MPI on or off only swaps dist/'s objects: the library is re-archived, nothing recompiled.
DIST_STAMP := $(BUILD)/dist.stamp
$(shell echo '$(HAVE_MPI) $(HAVE_NCCL)' | cmp -s - $(DIST_STAMP) || echo '$(HAVE_MPI) $(HAVE_NCCL)' > $(DIST_STAMP))

.PHONY: all test test-sanitize test-arm deps-arm check-layers bench bench-gpu bench-faults bench-tasks fuzz fuzz-run run clean config deps-lib deps-test
all: config
	@$(MAKE) --no-print-directory deps-lib
	@$(MAKE) --no-print-directory $(BIN)/splatlm

config:
	@echo "$(OMP_LINE)"
	@echo "$(CUDA_LINE)"
	@echo "$(MPI_LINE)"
	@echo "$(NCCL_LINE)"

deps-lib:
	$(call need_pkg,/usr/include/stb/stb_image_write.h,libstb-dev)
	$(call need_pkg,/usr/include/httplib.h,libcpp-httplib-dev)
	$(call need_pkg,/usr/bin/pkg-config,pkg-config)
	$(call need_pkg,/usr/include/zlib.h,zlib1g-dev)
deps-test: deps-lib
	$(call need_pkg,/usr/include/catch2/catch.hpp,catch2)

$(BUILD)/%.o: %.cpp $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(STB_FLAGS) $(if $(filter serve/% tests/test_serve_http.cpp bench/bench_serve.cpp,$<),$(HTTP_FLAGS)) -c $< -o $@

$(BUILD)/dist/mpi.o $(BUILD)/dist/nccl.o: CXXFLAGS += $(MPI_CFLAGS)
# AdamW's update loop vectorises (vsqrtps) only when sqrtf need not set errno; same values either way.
$(BUILD)/train/adamw.o: CXXFLAGS += -fno-math-errno

$(BUILD)/%.o: %.cu $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS) $(CUDA_OBJS) $(DIST_STAMP)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $(filter %.o,$^)

$(BIN)/splatlm: $(APP_OBJS) $(LIB)
	@mkdir -p $(BIN)
	$(CXX) $(LDFLAGS) $^ -o $@ $(STB_LIBS) $(HTTP_LIBS) $(ZLIB_LIBS) $(LDLIBS) $(MPI_LIBS)

$(BIN)/tests: $(TEST_OBJS) $(LIB)
	@mkdir -p $(BIN)
	$(CXX) $(LDFLAGS) $^ -o $@ $(STB_LIBS) $(HTTP_LIBS) $(ZLIB_LIBS) $(LDLIBS) $(MPI_LIBS) -lutil

# Tests: the whole Catch2 suite; pass extra Catch2 arguments with TEST_ARGS="...".
test: config
	@$(MAKE) --no-print-directory deps-test
	@$(MAKE) --no-print-directory $(BIN)/tests $(BIN)/splatlm
	./$(BIN)/tests $(TEST_ARGS)

# The sanitized suite that fits before every stop: ASan + UBSan objects in build-asan/ (kept, so
# only what changed is rebuilt), the groups that read files, parse, train and draw; the CLI tests
# run the sanitized bin-asan/splatlm (SPLATLM_BIN). The whole suite: make SANITIZE=1 CUDA=0 test.
SANITIZE_TAGS ?= [faults],[safetensors],[json],[tokenizer],[dataset],[train],[viz]
test-sanitize: config
	@$(MAKE) --no-print-directory deps-test
	@$(MAKE) --no-print-directory SANITIZE=1 CUDA=0 BUILD=build-asan BIN=bin-asan bin-asan/tests bin-asan/splatlm
	SPLATLM_BIN=./bin-asan/splatlm ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ./bin-asan/tests "$(SANITIZE_TAGS)"

# The whole suite on aarch64, on this x86 machine: cross-built (CUDA=0, MPI=0; the GEMM runs its NEON
# micro-kernel) into build-arm/ and bin-arm/ and run under qemu-user, the CLI tests starting
# bin-arm/splatlm through tools/qemu_arm_splatlm.sh. Correctness only: emulated timings mean nothing.
# Needs Debian's cross compiler, qemu-user and the arm64 builds of the libraries we link and load
# (multiarch). The programs run on the multiarch loader and libc, never with qemu -L
# /usr/aarch64-linux-gnu: that mixes the cross package's loader with another build's libc, and
# the first pthread_create hangs.
ARM_PKGS  := g++-aarch64-linux-gnu qemu-user libstb-dev:arm64 libcpp-httplib-dev:arm64 zlib1g-dev:arm64 libgomp1:arm64
ARM_FILES := /usr/bin/aarch64-linux-gnu-g++ /usr/bin/qemu-aarch64 /usr/lib/aarch64-linux-gnu/libstb.so \
             /usr/lib/aarch64-linux-gnu/libcpp-httplib.so /usr/lib/aarch64-linux-gnu/libz.so \
             /usr/lib/aarch64-linux-gnu/libgomp.so.1
test-arm: deps-arm
	@$(MAKE) --no-print-directory deps-test
	@$(MAKE) --no-print-directory CXX=aarch64-linux-gnu-g++ CUDA=0 MPI=0 BUILD=build-arm BIN=bin-arm bin-arm/tests bin-arm/splatlm
	SPLATLM_BIN=tools/qemu_arm_splatlm.sh OMP_WAIT_POLICY=passive qemu-aarch64 bin-arm/tests $(TEST_ARGS)
deps-arm:
	@for f in $(ARM_FILES); do [ -e $$f ] && continue; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    dpkg --add-architecture arm64 && apt-get update -qq && apt-get install -y -qq $(ARM_PKGS) >&2 || exit 1; break; \
	  else echo "$$f is missing: run \`sudo dpkg --add-architecture arm64 && sudo apt-get update && sudo apt-get install $(ARM_PKGS)\`"; exit 1; fi; \
	done

# The include-graph test alone: every #include arrow between folders must point down the layers
# (tests/test_layers.cpp holds the table).
check-layers: config
	@$(MAKE) --no-print-directory deps-test
	@$(MAKE) --no-print-directory $(BIN)/tests
	./$(BIN)/tests "[layers]"

# On a GPU machine: build, doctor, the [gpu] tests and the GPU figures (tools/gpu_check.sh).
bench-gpu:
	tools/gpu_check.sh

# 50 kill -9s at random moments of a tiny training; every run must resume bitwise (tests/test_faults.cpp).
bench-faults: all
	@$(MAKE) --no-print-directory deps-test
	@$(MAKE) --no-print-directory $(BIN)/tests
	./$(BIN)/tests "[bench-faults]"

# libFuzzer harnesses (fuzz/) for the safetensors reader, JSON, tokenizer loader and config parser:
# built with clang, ASan and UBSan into build-fuzz/ and bin-fuzz/, each run FUZZ_RUNS executions from
# the seeds in fuzz/corpus/<name>/ (new inputs go to build-fuzz/corpus/, never into the repo).
FUZZ_NAMES := safetensors json tokenizer config
FUZZ_RUNS  ?= 1000000
fuzz:
	$(call need_pkg,/usr/bin/clang++,clang)
	@$(MAKE) --no-print-directory CXX=clang++ BUILD=build-fuzz BIN=bin-fuzz CUDA=0 NO_OMP=1 FUZZ=1 fuzz-run
fuzz-run: deps-lib $(FUZZ_NAMES:%=$(BIN)/fuzz_%)
	@for name in $(FUZZ_NAMES); do mkdir -p $(BUILD)/corpus/$$name; \
	  ./$(BIN)/fuzz_$$name -runs=$(FUZZ_RUNS) -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	    $(BUILD)/corpus/$$name fuzz/corpus/$$name > $(BUILD)/fuzz_$$name.log 2>&1 || { tail -40 $(BUILD)/fuzz_$$name.log; exit 1; }; \
	  echo "fuzz_$$name: $$(grep -a number_of_executed_units $(BUILD)/fuzz_$$name.log | awk '{print $$2}') executions, no crash, hang or sanitizer report"; \
	done
.PRECIOUS: $(BUILD)/fuzz/fuzz_%.o
$(BIN)/fuzz_%: $(BUILD)/fuzz/fuzz_%.o $(LIB)
	@mkdir -p $(BIN)
	$(CXX) -fsanitize=fuzzer,address,undefined $^ -o $@ $(STB_LIBS) $(ZLIB_LIBS) $(LDLIBS)

# The MQAR accuracy table of docs/TASKS.md: softmax, splat, linear, local, delta, splat_delta (about 1.5 hours on 2 cores).
bench-tasks: all
	tools/bench_tasks.sh

bench: all
	./$(BIN)/splatlm bench peak
	./$(BIN)/splatlm bench gemm
	./$(BIN)/splatlm bench train --compare
	./$(BIN)/splatlm bench train --attention splat
	./$(BIN)/splatlm bench train --compete
	./$(BIN)/splatlm bench attention
	./$(BIN)/splatlm bench generate
	./$(BIN)/splatlm bench serve

# The main job: train the default model on the shipped corpus (or finish an interrupted run),
# then continue a prompt with it.
RUN_DIR := runs/main
run: all
	@if [ -f $(RUN_DIR)/model.safetensors ] || [ -d $(RUN_DIR)/checkpoints ]; then ./$(BIN)/splatlm train --resume $(RUN_DIR); \
	 else ./$(BIN)/splatlm train --preset small --out $(RUN_DIR); fi
	./$(BIN)/splatlm generate --ckpt $(RUN_DIR) --prompt "And God said" --tokens 400

clean:
	rm -rf $(BUILD) $(BIN) build-fuzz bin-fuzz build-asan bin-asan build-arm bin-arm

-include $(LIB_OBJS:.o=.d) $(CUDA_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(APP_OBJS:.o=.d)
