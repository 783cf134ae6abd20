// json.cpp — the Json value: typed accessors with clear errors, equality, and the compact
// serializer. The parser lives in json_parse.cpp.
#include "train/json.h"

#include <charconv>
#include <cmath>

#include "tensor/error.h"
#include "train/utf8.h"

namespace splatlm {

namespace {

// Shortest text that reads back to the same double ("0.1", "1e+30", "3.0"); a ".0" is added
// where needed so it reads back as a double, not as the integer 3. "nan"/"inf" for non-finite.
std::string double_text(double d) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, d);
    std::string text(buf, res.ptr);
    if (std::isfinite(d) && text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
}

std::string int_text(int64_t i) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, i);
    return std::string(buf, res.ptr);
}

void append_escaped(std::string& out, const std::string& s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            size_t len = utf8::sequence_length(s, i);
            SPLATLM_CHECK(len > 0, "JSON: cannot serialize a string that is not valid UTF-8 (byte 0x", hex[c >> 4],
                          hex[c & 15], " at offset ", i, "); encode binary data, e.g. as hex, first");
            out.append(s, i, len);
            i += len;
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
        ++i;
    }
    out += '"';
}

}  // namespace

std::string Json::describe() const {
    switch (type()) {
        case Type::Null: return "null";
        case Type::Bool: return as_bool() ? "true" : "false";
        case Type::Number: return "number " + (is_int() ? int_text(as_int()) : double_text(as_double()));
        case Type::String: {
            const std::string& s = as_string();
            return "string \"" + (s.size() > 40 ? s.substr(0, 40) + "..." : s) + "\"";
        }
        case Type::Array: return "array of " + std::to_string(size()) + " elements";
        case Type::Object: return "object with " + std::to_string(size()) + " members";
    }
    return "?";
}

void Json::fail_uint64_too_large(uint64_t i) {
    fail("JSON: integer ", i, " does not fit in int64");
}

void Json::fail_type(const char* expected) const {
    fail("JSON: expected ", expected, ", got ", describe());
}

bool Json::as_bool() const {
    if (!is_bool()) fail_type("a bool");
    return std::get<bool>(value_);
}

double Json::as_double() const {
    if (!is_number()) fail_type("a number");
    return std::get<Number>(value_).value;
}

int64_t Json::as_int() const {
    if (is_int()) return std::get<Number>(value_).int_value;
    // An integer-valued double this large was written as an integer too big for int64.
    if (is_number() && std::fabs(as_double()) >= 0x1p63) fail_type("an integer within int64 range");
    fail_type("an integer");
}

const std::string& Json::as_string() const {
    if (!is_string()) fail_type("a string");
    return std::get<std::string>(value_);
}

const Json::Array& Json::as_array() const {
    if (!is_array()) fail_type("an array");
    return std::get<Array>(value_);
}

Json::Array& Json::as_array() {
    if (!is_array()) fail_type("an array");
    return std::get<Array>(value_);
}

const Json::Object& Json::as_object() const {
    if (!is_object()) fail_type("an object");
    return std::get<Object>(value_);
}

Json::Object& Json::as_object() {
    if (!is_object()) fail_type("an object");
    return std::get<Object>(value_);
}

const Json* Json::find(std::string_view key) const {
    for (const auto& [k, v] : as_object())
        if (k == key) return &v;
    return nullptr;
}

const Json& Json::at(std::string_view key) const {
    const Json* v = find(key);
    if (!v) fail("JSON: object has no key \"", key, "\"");
    return *v;
}

Json& Json::set(std::string_view key, Json value) {
    Object& members = as_object();
    for (auto& [k, v] : members)
        if (k == key) return v = std::move(value);
    members.emplace_back(std::string(key), std::move(value));
    return members.back().second;
}

const Json& Json::at(size_t index) const {
    const Array& elements = as_array();
    SPLATLM_CHECK(index < elements.size(), "JSON: index ", index, " out of range for an array of ", elements.size(),
                  " elements");
    return elements[index];
}

Json& Json::push_back(Json value) { return as_array().emplace_back(std::move(value)); }

size_t Json::size() const {
    if (is_array()) return std::get<Array>(value_).size();
    if (is_object()) return std::get<Object>(value_).size();
    fail_type("an array or object");
}

bool Json::operator==(const Json& other) const {
    if (type() != other.type()) return false;
    switch (type()) {
        case Type::Null: return true;
        case Type::Bool: return as_bool() == other.as_bool();
        case Type::Number:
            return is_int() && other.is_int() ? as_int() == other.as_int() : as_double() == other.as_double();
        case Type::String: return as_string() == other.as_string();
        case Type::Array: return as_array() == other.as_array();
        case Type::Object: {  // member order does not matter; keys are unique
            if (size() != other.size()) return false;
            for (const auto& [k, v] : as_object()) {
                const Json* w = other.find(k);
                if (!w || !(*w == v)) return false;
            }
            return true;
        }
    }
    return false;
}

std::string Json::dump() const {
    std::string out;
    dump_to(out);
    return out;
}

void Json::dump_to(std::string& out) const {
    switch (type()) {
        case Type::Null: out += "null"; break;
        case Type::Bool: out += as_bool() ? "true" : "false"; break;
        case Type::Number: {
            if (is_int()) {
                out += int_text(as_int());
                break;
            }
            const double d = as_double();
            SPLATLM_CHECK(std::isfinite(d), "JSON: cannot serialize ", double_text(d),
                          ": JSON has no NaN or Infinity");
            out += double_text(d);
            break;
        }
        case Type::String: append_escaped(out, as_string()); break;
        case Type::Array: {
            out += '[';
            bool first = true;
            for (const Json& v : as_array()) {
                if (!first) out += ',';
                first = false;
                v.dump_to(out);
            }
            out += ']';
            break;
        }
        case Type::Object: {
            out += '{';
            bool first = true;
            for (const auto& [k, v] : as_object()) {
                if (!first) out += ',';
                first = false;
                append_escaped(out, k);
                out += ':';
                v.dump_to(out);
            }
            out += '}';
            break;
        }
    }
}

}  // namespace splatlm
