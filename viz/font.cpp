// font.cpp — the glyph table and the text renderer.
//
// Each glyph is written as a picture: rows separated by spaces, '#' = ink, '.' = paper, 5 columns
// per row, 7 rows (the two descender rows are then blank) or 9 rows. The pictures are parsed at
// compile time (consteval), so a malformed row or a table out of ASCII order is a build error,
// not a garbled character at run time. Every glyph here was drawn for splatlm.
#include "viz/font.h"

#include <array>
#include <cstdint>

#include "tensor/error.h"

namespace splatlm::viz {

namespace {

struct Glyph {
    char ch = 0;
    std::array<std::uint8_t, kGlyphHeight> rows{};  // bit (kGlyphWidth-1-col) set = inked
};

consteval Glyph parse(char ch, std::string_view pic) {
    Glyph g{ch, {}};
    int row = 0;
    std::size_t i = 0;
    while (i < pic.size()) {
        if (row == kGlyphHeight) throw "glyph has more than 9 rows";
        for (int col = 0; col < kGlyphWidth; ++col, ++i) {
            if (i >= pic.size() || (pic[i] != '#' && pic[i] != '.')) throw "row is not 5 of #/.";
            if (pic[i] == '#') g.rows[row] |= static_cast<std::uint8_t>(1u << (kGlyphWidth - 1 - col));
        }
        ++row;
        if (i < pic.size() && pic[i++] != ' ') throw "rows must be separated by one space";
    }
    if (row != kCapHeight && row != kGlyphHeight) throw "glyph needs 7 or 9 rows";
    return g;
}

constexpr std::array<Glyph, 95> kGlyphs = {{
    parse(' ', "..... ..... ..... ..... ..... ..... ....."),
    parse('!', "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.."),
    parse('"', ".#.#. .#.#. ..... ..... ..... ..... ....."),
    parse('#', ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#."),
    parse('$', "..#.. .#### #.#.. .###. ..#.# ####. ..#.."),
    parse('%', "##..# ##..# ...#. ..#.. .#... #..## #..##"),
    parse('&', ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#"),
    parse('\'', "..#.. ..#.. ..... ..... ..... ..... ....."),
    parse('(', "...#. ..#.. .#... .#... .#... ..#.. ...#."),
    parse(')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."),
    parse('*', "..... ..#.. #.#.# .###. #.#.# ..#.. ....."),
    parse('+', "..... ..#.. ..#.. ##### ..#.. ..#.. ....."),
    parse(',', "..... ..... ..... ..... ..... .##.. .##.. ..#.. .#..."),
    parse('-', "..... ..... ..... ##### ..... ..... ....."),
    parse('.', "..... ..... ..... ..... ..... .##.. .##.."),
    parse('/', "....# ....# ...#. ..#.. .#... #.... #...."),
    parse('0', ".###. #...# #..## #.#.# ##..# #...# .###."),
    parse('1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."),
    parse('2', ".###. #...# ....# ...#. ..#.. .#... #####"),
    parse('3', "##### ...#. ..#.. ...#. ....# #...# .###."),
    parse('4', "...#. ..##. .#.#. #..#. ##### ...#. ...#."),
    parse('5', "##### #.... ####. ....# ....# #...# .###."),
    parse('6', "..##. .#... #.... ####. #...# #...# .###."),
    parse('7', "##### ....# ...#. ..#.. .#... .#... .#..."),
    parse('8', ".###. #...# #...# .###. #...# #...# .###."),
    parse('9', ".###. #...# #...# .#### ....# ...#. .##.."),
    parse(':', "..... .##.. .##.. ..... .##.. .##.. ....."),
    parse(';', "..... .##.. .##.. ..... .##.. .##.. ..#.. .#... ....."),
    parse('<', "...#. ..#.. .#... #.... .#... ..#.. ...#."),
    parse('=', "..... ..... ##### ..... ##### ..... ....."),
    parse('>', ".#... ..#.. ...#. ....# ...#. ..#.. .#..."),
    parse('?', ".###. #...# ....# ...#. ..#.. ..... ..#.."),
    parse('@', ".###. #...# #.### #.#.# #.### #.... .####"),
    parse('A', ".###. #...# #...# ##### #...# #...# #...#"),
    parse('B', "####. #...# #...# ####. #...# #...# ####."),
    parse('C', ".###. #...# #.... #.... #.... #...# .###."),
    parse('D', "###.. #..#. #...# #...# #...# #..#. ###.."),
    parse('E', "##### #.... #.... ####. #.... #.... #####"),
    parse('F', "##### #.... #.... ####. #.... #.... #...."),
    parse('G', ".###. #...# #.... #.### #...# #...# .####"),
    parse('H', "#...# #...# #...# ##### #...# #...# #...#"),
    parse('I', ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
    parse('J', "..### ...#. ...#. ...#. ...#. #..#. .##.."),
    parse('K', "#...# #..#. #.#.. ##... #.#.. #..#. #...#"),
    parse('L', "#.... #.... #.... #.... #.... #.... #####"),
    parse('M', "#...# ##.## #.#.# #.#.# #...# #...# #...#"),
    parse('N', "#...# #...# ##..# #.#.# #..## #...# #...#"),
    parse('O', ".###. #...# #...# #...# #...# #...# .###."),
    parse('P', "####. #...# #...# ####. #.... #.... #...."),
    parse('Q', ".###. #...# #...# #...# #.#.# #..#. .##.#"),
    parse('R', "####. #...# #...# ####. #.#.. #..#. #...#"),
    parse('S', ".#### #.... #.... .###. ....# ....# ####."),
    parse('T', "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
    parse('U', "#...# #...# #...# #...# #...# #...# .###."),
    parse('V', "#...# #...# #...# #...# #...# .#.#. ..#.."),
    parse('W', "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."),
    parse('X', "#...# #...# .#.#. ..#.. .#.#. #...# #...#"),
    parse('Y', "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."),
    parse('Z', "##### ....# ...#. ..#.. .#... #.... #####"),
    parse('[', ".###. .#... .#... .#... .#... .#... .###."),
    parse('\\', "#.... #.... .#... ..#.. ...#. ....# ....#"),
    parse(']', ".###. ...#. ...#. ...#. ...#. ...#. .###."),
    parse('^', "..#.. .#.#. #...# ..... ..... ..... ....."),
    parse('_', "..... ..... ..... ..... ..... ..... ..... ##### ....."),
    parse('`', ".#... ..#.. ..... ..... ..... ..... ....."),
    parse('a', "..... ..... .###. ....# .#### #...# .####"),
    parse('b', "#.... #.... #.##. ##..# #...# #...# ####."),
    parse('c', "..... ..... .###. #.... #.... #...# .###."),
    parse('d', "....# ....# .##.# #..## #...# #...# .####"),
    parse('e', "..... ..... .###. #...# ##### #.... .###."),
    parse('f', "..##. .#..# .#... ###.. .#... .#... .#..."),
    parse('g', "..... ..... .#### #...# #...# #...# .#### ....# .###."),
    parse('h', "#.... #.... #.##. ##..# #...# #...# #...#"),
    parse('i', "..#.. ..... .##.. ..#.. ..#.. ..#.. .###."),
    parse('j', "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##.."),
    parse('k', "#.... #.... #..#. #.#.. ##... #.#.. #..#."),
    parse('l', ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
    parse('m', "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#"),
    parse('n', "..... ..... #.##. ##..# #...# #...# #...#"),
    parse('o', "..... ..... .###. #...# #...# #...# .###."),
    parse('p', "..... ..... ####. #...# #...# #...# ####. #.... #...."),
    parse('q', "..... ..... .#### #...# #...# #...# .#### ....# ....#"),
    parse('r', "..... ..... #.##. ##..# #.... #.... #...."),
    parse('s', "..... ..... .#### #.... .###. ....# ####."),
    parse('t', ".#... .#... ###.. .#... .#... .#..# ..##."),
    parse('u', "..... ..... #...# #...# #...# #..## .##.#"),
    parse('v', "..... ..... #...# #...# #...# .#.#. ..#.."),
    parse('w', "..... ..... #...# #...# #.#.# #.#.# .#.#."),
    parse('x', "..... ..... #...# .#.#. ..#.. .#.#. #...#"),
    parse('y', "..... ..... #...# #...# #...# #...# .#### ....# .###."),
    parse('z', "..... ..... ##### ...#. ..#.. .#... #####"),
    parse('{', "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#."),
    parse('|', "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
    parse('}', ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#..."),
    parse('~', "..... ..... .#... #.#.# ...#. ..... ....."),
}};

constexpr Glyph kPlaceholder = parse('?', "##### #...# #...# #...# #...# #...# #####");

consteval bool table_in_ascii_order() {
    for (std::size_t i = 0; i < kGlyphs.size(); ++i)
        if (kGlyphs[i].ch != static_cast<char>(32 + i)) return false;
    return true;
}
static_assert(table_in_ascii_order(), "kGlyphs must list bytes 32..126 in order");

const Glyph& glyph_for(unsigned char c) {
    return c >= 32 && c <= 126 ? kGlyphs[c - 32] : kPlaceholder;
}

void check_scale(int scale) {
    SPLATLM_CHECK(scale >= 1 && scale <= kMaxTextScale, "text: scale ", scale, " outside [1, ",
                  kMaxTextScale, "]");
}

}  // namespace

bool glyph_pixel(unsigned char c, int col, int row) {
    if (col < 0 || col >= kGlyphWidth || row < 0 || row >= kGlyphHeight) return false;
    return (glyph_for(c).rows[row] >> (kGlyphWidth - 1 - col)) & 1u;
}

int text_width(std::string_view text, int scale) {
    check_scale(scale);
    return text.empty() ? 0 : static_cast<int>(text.size()) * kAdvance * scale - scale;
}

int text_height(int scale) {
    check_scale(scale);
    return kGlyphHeight * scale;
}

void draw_text(Canvas& canvas, int x, int y, std::string_view text, Rgba color, int scale,
               TextDir dir) {
    const int along_total = text_width(text, scale);
    for (std::size_t k = 0; k < text.size(); ++k) {
        const auto c = static_cast<unsigned char>(text[k]);
        for (int row = 0; row < kGlyphHeight; ++row) {
            for (int col = 0; col < kGlyphWidth; ++col) {
                if (!glyph_pixel(c, col, row)) continue;
                // Position along the reading direction and across it, in pixels from the box's
                // origin; 64-bit because long strings at big scales can exceed int.
                const long long along = (static_cast<long long>(k) * kAdvance + col) * scale;
                const long long across = static_cast<long long>(row) * scale;
                long long px, py;
                if (dir == TextDir::right) {
                    px = x + along, py = y + across;
                } else {
                    px = x + across, py = y + along_total - along - scale;
                }
                if (px >= canvas.width() || py >= canvas.height() || px + scale <= 0 ||
                    py + scale <= 0)
                    continue;
                canvas.fill_rect(static_cast<int>(px), static_cast<int>(py), scale, scale, color);
            }
        }
    }
}

}  // namespace splatlm::viz
