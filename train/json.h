// json.h — a small JSON value type with a strict parser and a compact serializer.
//
// Used for safetensors headers, config files, metrics.jsonl lines and --json benchmark output.
// The design choices, and why:
//   * Objects keep insertion order (a vector of key/value pairs), so what we write reads back in
//     the same order and diffs of config files stay stable. Lookup is linear: our objects are small.
//   * Numbers are doubles, but a number written as an integer (no '.', no exponent) that fits in
//     int64 also keeps its exact int64 value: byte offsets and shapes must not pass through a
//     double. as_int() accepts only such numbers, so "2.5" (or "2.0") is never silently an index.
//   * The parser is strict RFC 8259: no comments, no trailing commas, no NaN/Infinity, no raw
//     control characters in strings, valid UTF-8 only, no duplicate keys, nesting at most 256
//     deep. Every error is a splatlm::Error naming the byte offset and what was expected there.
//   * dump() is compact (no whitespace). Doubles are printed with the shortest digits that read
//     back to the same bits (std::to_chars), and always with a '.' or exponent so they stay
//     doubles; NaN and infinities throw, because JSON cannot represent them.
#pragma once
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace splatlm {

class Json {
  public:
    enum class Type { Null, Bool, Number, String, Array, Object };
    using Array = std::vector<Json>;
    using Object = std::vector<std::pair<std::string, Json>>;  // insertion order, unique keys

    // ---- construction ----
    Json() = default;  // null
    Json(std::nullptr_t) {}
    Json(bool b) : value_(b) {}
    template <std::integral T>
        requires(!std::same_as<T, bool>)
    Json(T i) : value_(Number::integer(checked_int64(i))) {}
    Json(char) = delete;  // almost always a mistake for a one-character string; write Json("c")
    template <std::floating_point T>
    Json(T d) : value_(Number::real(static_cast<double>(d))) {}
    Json(const char* s) : value_(std::string(s)) {}
    Json(std::string s) : value_(std::move(s)) {}
    Json(std::string_view s) : value_(std::string(s)) {}
    Json(Array a) : value_(std::move(a)) {}
    Json(Object o) : value_(std::move(o)) {}

    // Parse one complete JSON text (surrounding whitespace allowed, nothing else).
    static Json parse(std::string_view text);

    // ---- type queries ----
    Type type() const { return static_cast<Type>(value_.index()); }
    bool is_null() const { return type() == Type::Null; }
    bool is_bool() const { return type() == Type::Bool; }
    bool is_number() const { return type() == Type::Number; }
    bool is_int() const { return is_number() && std::get<Number>(value_).is_int; }  // exact int64
    bool is_string() const { return type() == Type::String; }
    bool is_array() const { return type() == Type::Array; }
    bool is_object() const { return type() == Type::Object; }

    // ---- typed access: each throws splatlm::Error saying what it expected and what it found ----
    bool as_bool() const;
    double as_double() const;  // any number
    int64_t as_int() const;    // only numbers written as integers that fit in int64
    const std::string& as_string() const;
    const Array& as_array() const;
    Array& as_array();
    const Object& as_object() const;
    Object& as_object();

    // ---- objects ----
    const Json* find(std::string_view key) const;  // nullptr when absent (throws if not an object)
    bool contains(std::string_view key) const { return find(key) != nullptr; }
    const Json& at(std::string_view key) const;  // throws naming the key when absent
    Json& set(std::string_view key, Json value);  // replaces an existing key in place, else appends

    // ---- arrays ----
    const Json& at(size_t index) const;  // throws on out-of-range index
    Json& push_back(Json value);

    size_t size() const;  // elements of an array, members of an object (throws otherwise)

    // A short description for error messages: `string "abc"`, `number 2.5`, `array of 3 elements`.
    std::string describe() const;

    // Compact serialization; throws on NaN/Inf and on strings that are not valid UTF-8.
    std::string dump() const;
    void dump_to(std::string& out) const;

    // Structural equality; numbers compare by value (int64 exactly when both sides are integers).
    bool operator==(const Json& other) const;

  private:
    struct Number {
        double value = 0;
        int64_t int_value = 0;
        bool is_int = false;
        static Number integer(int64_t i) { return {static_cast<double>(i), i, true}; }
        static Number real(double d) { return {d, 0, false}; }
    };
    template <std::integral T>
    static int64_t checked_int64(T i) {
        if constexpr (std::unsigned_integral<T> && sizeof(T) >= sizeof(int64_t))
            if (i > static_cast<T>(INT64_MAX)) fail_uint64_too_large(static_cast<uint64_t>(i));
        return static_cast<int64_t>(i);
    }
    [[noreturn]] static void fail_uint64_too_large(uint64_t i);
    [[noreturn]] void fail_type(const char* expected) const;

    // Alternative order matches Type.
    std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> value_;
};

}  // namespace splatlm
