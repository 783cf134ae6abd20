#!/bin/sh
# qemu_arm_splatlm.sh — runs the aarch64 bin-arm/splatlm under qemu-user with the given arguments.
# `make test-arm` points the CLI tests at it (SPLATLM_BIN, tests/shell.h), so the tests that start
# splatlm as a child run the ARM program too, on an x86 host without binfmt_misc.
exec qemu-aarch64 "$(dirname "$0")/../bin-arm/splatlm" "$@"
