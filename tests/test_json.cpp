// test_json.cpp — the JSON value type: parse/dump round-trips, numbers, escapes and unicode,
// typed accessors, and every parser error path (each must name the problem and the position).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tensor/error.h"
#include "train/json.h"

using namespace splatlm;
using Catch::Contains;

TEST_CASE("json: nested values round-trip through dump and parse", "[json]") {
    Json doc = Json::Object{
        {"name", "splat"},
        {"layers", 4},
        {"lr", 3e-4},
        {"flags", Json::Array{true, false, nullptr}},
        {"nested", Json::Object{{"empty_array", Json::Array{}}, {"empty_object", Json::Object{}}}},
    };
    const std::string text = doc.dump();
    CHECK(text ==
          R"({"name":"splat","layers":4,"lr":3e-04,"flags":[true,false,null],)"
          R"("nested":{"empty_array":[],"empty_object":{}}})");
    Json back = Json::parse(text);
    CHECK(back == doc);
    CHECK(back.dump() == text);
    // Insertion order is kept, not sorted.
    CHECK(back.as_object()[0].first == "name");
    CHECK(back.as_object()[4].first == "nested");
}

TEST_CASE("json: whitespace around tokens is accepted", "[json]") {
    Json v = Json::parse(" \n\t{ \"a\" : [ 1 , 2 ] ,\r\n \"b\" : null } \n");
    CHECK(v.at("a").at(1).as_int() == 2);
    CHECK(v.at("b").is_null());
}

TEST_CASE("json: integers are exact int64, other numbers are doubles", "[json]") {
    CHECK(Json::parse("0").as_int() == 0);
    CHECK(Json::parse("-17").as_int() == -17);
    CHECK(Json::parse("9223372036854775807").as_int() == std::numeric_limits<int64_t>::max());
    CHECK(Json::parse("-9223372036854775808").as_int() == std::numeric_limits<int64_t>::min());
    // 2^53 + 1 is not representable as a double; it must survive exactly.
    CHECK(Json::parse("9007199254740993").as_int() == 9007199254740993LL);
    CHECK(Json::parse("9007199254740993").dump() == "9007199254740993");

    CHECK(Json::parse("1.5").as_double() == 1.5);
    CHECK(Json::parse("-2.5e3").as_double() == -2500.0);
    CHECK(Json::parse("1E-2").as_double() == 0.01);
    CHECK(Json::parse("1e+2").as_double() == 100.0);
    CHECK_FALSE(Json::parse("1e2").is_int());
    CHECK_FALSE(Json::parse("2.0").is_int());
    CHECK(Json::parse("7").as_double() == 7.0);

    // Too large for int64: read as a double, like every JSON reader.
    Json big = Json::parse("123456789012345678901234567890");
    CHECK_FALSE(big.is_int());
    CHECK(big.as_double() == 123456789012345678901234567890.0);
    REQUIRE_THROWS_WITH(big.as_int(), Contains("expected an integer within int64 range"));

    CHECK(Json(uint64_t{42}).as_int() == 42);
    REQUIRE_THROWS_WITH(Json(std::numeric_limits<uint64_t>::max()), Contains("does not fit in int64"));
}

TEST_CASE("json: doubles round-trip bit-exactly and stay doubles", "[json]") {
    const double values[] = {0.1, 1.0 / 3.0, -2.5e-300, 1e300, 6.02214076e23, 3.0, -0.0,
                             std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max()};
    for (double d : values) {
        const std::string text = Json(d).dump();
        Json back = Json::parse(text);
        INFO(text);
        CHECK_FALSE(back.is_int());
        CHECK(std::signbit(back.as_double()) == std::signbit(d));
        CHECK(back.as_double() == d);
    }
    CHECK(Json(3.0).dump() == "3.0");
    CHECK(Json(-0.0).dump() == "-0.0");
    CHECK(Json(0.1f).dump() == Json(static_cast<double>(0.1f)).dump());
    CHECK(Json(int64_t{-5}).dump() == "-5");
}

TEST_CASE("json: NaN and infinity cannot be serialized", "[json]") {
    REQUIRE_THROWS_WITH(Json(std::nan("")).dump(), Contains("JSON has no NaN or Infinity"));
    const Json with_inf = Json::Array{1, -std::numeric_limits<double>::infinity()};
    REQUIRE_THROWS_WITH(with_inf.dump(), Contains("cannot serialize -inf"));
}

TEST_CASE("json: string escapes round-trip", "[json]") {
    const std::string s = std::string("quote\" backslash\\ slash/ \b\f\n\r\t ctrl\x01\x1f nul") + '\0' + "end";
    const std::string text = Json(s).dump();
    CHECK(text == R"("quote\" backslash\\ slash/ \b\f\n\r\t ctrl\u0001\u001f nul\u0000end")");
    CHECK(Json::parse(text).as_string() == s);
    CHECK(Json::parse(R"("\/\u0041\u00e9")").as_string() == "/A\xC3\xA9");
    // Keys are escaped too.
    Json obj = Json::Object{{"a\"b", 1}};
    CHECK(obj.dump() == R"({"a\"b":1})");
    CHECK(Json::parse(obj.dump()) == obj);
}

TEST_CASE("json: unicode escapes become UTF-8, raw UTF-8 passes through", "[json]") {
    CHECK(Json::parse(R"("\u20ac")").as_string() == "\xE2\x82\xAC");          // €
    CHECK(Json::parse(R"("\uD83D\uDE00")").as_string() == "\xF0\x9F\x98\x80");  // 😀 via a surrogate pair
    CHECK(Json::parse(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");
    const std::string raw = "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80";
    CHECK(Json::parse("\"" + raw + "\"").as_string() == raw);
    CHECK(Json(raw).dump() == "\"" + raw + "\"");  // written as UTF-8, not escaped
}

TEST_CASE("json: invalid UTF-8 is rejected when parsing and when serializing", "[json]") {
    REQUIRE_THROWS_WITH(Json::parse("\"a\xFF\""), Contains("at byte 2") && Contains("invalid UTF-8 (byte 0xff)"));
    REQUIRE_THROWS_WITH(Json::parse("\"\xC0\xAF\""), Contains("invalid UTF-8"));      // overlong '/'
    REQUIRE_THROWS_WITH(Json::parse("\"\xED\xA0\x80\""), Contains("invalid UTF-8"));  // encoded surrogate
    REQUIRE_THROWS_WITH(Json::parse("\"\xE2\x82\""), Contains("invalid UTF-8"));      // truncated sequence
    REQUIRE_THROWS_WITH(Json("bin\x80").dump(), Contains("not valid UTF-8") && Contains("byte 0x80 at offset 3"));
}

TEST_CASE("json: typed accessors say what they expected and what they found", "[json]") {
    Json v = Json::parse(R"({"n": 3, "s": "abc", "x": 2.5, "a": [1], "t": true})");
    CHECK(v.at("n").as_int() == 3);
    CHECK(v.at("t").as_bool());
    CHECK(v.size() == 5);
    CHECK(v.contains("s"));
    CHECK_FALSE(v.contains("missing"));
    CHECK(v.find("missing") == nullptr);

    REQUIRE_THROWS_WITH(v.at("missing"), Contains("object has no key \"missing\""));
    REQUIRE_THROWS_WITH(v.at("s").as_int(), Contains("expected an integer, got string \"abc\""));
    REQUIRE_THROWS_WITH(v.at("x").as_int(), Contains("expected an integer, got number 2.5"));
    REQUIRE_THROWS_WITH(v.at("n").as_string(), Contains("expected a string, got number 3"));
    REQUIRE_THROWS_WITH(v.at("s").as_bool(), Contains("expected a bool"));
    REQUIRE_THROWS_WITH(v.at("s").as_double(), Contains("expected a number"));
    REQUIRE_THROWS_WITH(v.at("a").as_object(), Contains("expected an object, got array of 1 elements"));
    REQUIRE_THROWS_WITH(v.as_array(), Contains("expected an array, got object with 5 members"));
    REQUIRE_THROWS_WITH(v.at("a").at(1), Contains("index 1 out of range for an array of 1 elements"));
    REQUIRE_THROWS_WITH(v.at("a").at("k"), Contains("expected an object"));
    REQUIRE_THROWS_WITH(v.at("n").size(), Contains("expected an array or object, got number 3"));
    REQUIRE_THROWS_AS(Json().as_bool(), splatlm::Error);
}

TEST_CASE("json: set replaces in place or appends; push_back appends", "[json]") {
    Json obj = Json::Object{};
    obj.set("a", 1);
    obj.set("b", "two");
    obj.set("a", 10);
    CHECK(obj.dump() == R"({"a":10,"b":"two"})");
    Json arr = Json::Array{};
    arr.push_back(1);
    arr.push_back(Json::Array{});
    CHECK(arr.dump() == "[1,[]]");
    REQUIRE_THROWS_WITH(arr.set("k", 1), Contains("expected an object"));
    REQUIRE_THROWS_WITH(obj.push_back(1), Contains("expected an array"));
}

TEST_CASE("json: equality is structural; object member order does not matter", "[json]") {
    CHECK(Json::parse(R"({"a":1,"b":[2,3]})") == Json::parse(R"({"b":[2,3],"a":1})"));
    CHECK_FALSE(Json::parse(R"({"a":1})") == Json::parse(R"({"a":2})"));
    CHECK_FALSE(Json::parse(R"({"a":1})") == Json::parse(R"({"a":1,"b":1})"));
    CHECK_FALSE(Json::parse("[1,2]") == Json::parse("[2,1]"));
    CHECK(Json::parse("1") == Json::parse("1.0"));
    CHECK_FALSE(Json::parse("1") == Json::parse("\"1\""));
}

TEST_CASE("json: parse errors name the byte position and what was expected", "[json]") {
    struct Case {
        std::string text, message;
    };
    const Case cases[] = {
        {"", "at byte 0 (line 1, column 1): expected a value (object, array, string, number, true, false or null), "
             "got end of input"},
        {"  ", "at byte 2"},
        {"{\"a\": 1} x", "at byte 9 (line 1, column 10): unexpected 'x' after the JSON value (trailing garbage)"},
        {"[1] [2]", "unexpected '[' after the JSON value"},
        {"\"abc", "at byte 0 (line 1, column 1): unterminated string"},
        {"[\"abc\\", "at byte 1 (line 1, column 2): unterminated string"},
        {"\"a\\qb\"", "at byte 2 (line 1, column 3): invalid escape: backslash followed by 'q'"},
        {"\"\\u12G4\"", "at byte 5 (line 1, column 6): invalid \\u escape: expected 4 hex digits, got 'G'"},
        {"\"\\u12\"", "invalid \\u escape: expected 4 hex digits, got '\"'"},
        {"\"\\uD83D\"", "at byte 1 (line 1, column 2): high surrogate \\u escape not followed by a low surrogate"},
        {"\"\\uD83D\\u0041\"", "high surrogate \\u escape not followed by a low surrogate"},
        {"\"\\uDE00\"", "unpaired low surrogate"},
        {"\"a\nb\"", "at byte 2 (line 1, column 3): unescaped control character byte 0x0a in string"},
        {"01", "at byte 0 (line 1, column 1): invalid number: leading zeros are not allowed"},
        {"-", "at byte 1 (line 1, column 2): invalid number: expected a digit after '-', got end of input"},
        {"-a", "invalid number: expected a digit after '-', got 'a'"},
        {"1.", "at byte 2 (line 1, column 3): invalid number: expected a digit after '.', got end of input"},
        {"1.e5", "invalid number: expected a digit after '.', got 'e'"},
        {"1e", "invalid number: expected a digit in the exponent, got end of input"},
        {"1e+", "invalid number: expected a digit in the exponent"},
        {".5", "expected a value (object, array, string, number, true, false or null), got '.'"},
        {"+1", "expected a value (object, array, string, number, true, false or null), got '+'"},
        {"1e400", "number 1e400 is out of double range"},
        {"NaN", "expected a value"},
        {"Infinity", "expected a value"},
        {"tru", "invalid literal, expected 'true'"},
        {"nul", "invalid literal, expected 'null'"},
        {"falsy", "invalid literal, expected 'false'"},
        {"[1,]", "at byte 3 (line 1, column 4): expected a value (object, array, string, number, true, false or "
                 "null), got ']'"},
        {"[1 2]", "at byte 3 (line 1, column 4): expected ',' or ']' after an array element, got '2'"},
        {"[1", "expected ',' or ']' after an array element, got end of input"},
        {"{\"a\":1,}", "at byte 7 (line 1, column 8): expected a string key, got '}'"},
        {"{a:1}", "expected a string key, got 'a'"},
        {"{\"a\" 1}", "at byte 5 (line 1, column 6): expected ':' after an object key, got '1'"},
        {"{\"a\":1 \"b\":2}", "expected ',' or '}' after an object member, got '\"'"},
        {"{\"a\":1", "expected ',' or '}' after an object member, got end of input"},
        {"{\"k\":1,\n \"k\":2}", "at byte 9 (line 2, column 2): duplicate key \"k\""},
        {"// comment\n1", "got '/'"},
        {std::string("[1]\0", 4), "unexpected byte 0x00 after the JSON value"},
    };
    for (const Case& c : cases) {
        INFO("input: " << c.text);
        REQUIRE_THROWS_AS(Json::parse(c.text), splatlm::Error);
        REQUIRE_THROWS_WITH(Json::parse(c.text), Contains("JSON parse error") && Contains(c.message));
    }
}

TEST_CASE("json: nesting is limited to 256 levels", "[json]") {
    const std::string ok = std::string(256, '[') + std::string(256, ']');
    CHECK(Json::parse(ok).is_array());
    const std::string deep = std::string(257, '[') + std::string(257, ']');
    REQUIRE_THROWS_WITH(Json::parse(deep), Contains("at byte 256") && Contains("nesting deeper than 256 levels"));
    std::string objects;
    for (int i = 0; i < 300; ++i) objects += "{\"k\":";
    REQUIRE_THROWS_WITH(Json::parse(objects), Contains("nesting deeper than 256 levels"));
}
