// elementwise_dispatch.h — from a runtime op (Unary / Binary) to its compile-time instance, and the
// ops' names, all generated from the op lists in elementwise_math.h so no switch is written twice.
// Host code only: the CPU loops and the CUDA launches both dispatch through here.
#pragma once
#include <type_traits>

#include "tensor/elementwise_math.h"
#include "tensor/error.h"

namespace splatlm {

// Calls f(std::integral_constant<Unary, op>{}) for the runtime op and returns its result; inside f,
// decltype(k)::value is the op as a template argument (apply_unary<decltype(k)::value>).
template <class F>
decltype(auto) dispatch_unary(Unary op, F&& f) {
    switch (op) {
#define SPLATLM_CASE(name) \
    case Unary::name: return f(std::integral_constant<Unary, Unary::name>{});
        SPLATLM_UNARY_OPS(SPLATLM_CASE)
#undef SPLATLM_CASE
    }
    fail("unary: unknown op ", static_cast<int>(op));
}

template <class F>
decltype(auto) dispatch_binary(Binary op, F&& f) {
    switch (op) {
#define SPLATLM_CASE(name) \
    case Binary::name: return f(std::integral_constant<Binary, Binary::name>{});
        SPLATLM_BINARY_OPS(SPLATLM_CASE)
#undef SPLATLM_CASE
    }
    fail("binary: unknown op ", static_cast<int>(op));
}

// "Exp", "GeluGrad", ...: the names error messages use.
inline const char* op_name(Unary op) {
    switch (op) {
#define SPLATLM_CASE(name) \
    case Unary::name: return #name;
        SPLATLM_UNARY_OPS(SPLATLM_CASE)
#undef SPLATLM_CASE
    }
    return "unknown unary op";
}
inline const char* op_name(Binary op) {
    switch (op) {
#define SPLATLM_CASE(name) \
    case Binary::name: return #name;
        SPLATLM_BINARY_OPS(SPLATLM_CASE)
#undef SPLATLM_CASE
    }
    return "unknown binary op";
}

}  // namespace splatlm
