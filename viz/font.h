// font.h — splatlm's own bitmap font: one hand-drawn 5x9 glyph per printable ASCII byte (32–126).
//
// Glyph box: 5 columns x 9 rows. Rows 0–6 hold capitals and digits (cap height 7); lowercase
// letters use rows 2–6 (x-height 5); rows 7–8 hold descenders (g j p q y , ;). Characters advance
// 6 pixels (one blank column between glyphs) and lines are 11 pixels apart, all multiplied by an
// integer scale. Any other byte (control characters, UTF-8 pieces) draws a hollow placeholder box
// so missing text is visible rather than silently dropped. Pixels go through Canvas::fill_rect,
// so text is clipped at the canvas border like everything else.
#pragma once
#include <string_view>

#include "viz/canvas.h"

namespace splatlm::viz {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 9;
inline constexpr int kCapHeight = 7;
inline constexpr int kAdvance = 6;
inline constexpr int kLineHeight = 11;
inline constexpr int kMaxTextScale = 16;

enum class TextDir {
    right,  // normal left-to-right text
    up,     // rotated 90° counter-clockwise, read bottom-to-top (y-axis titles, crowded labels)
};

// Whether pixel (col, row) of byte c's glyph is inked; col in [0,5), row in [0,9).
bool glyph_pixel(unsigned char c, int col, int row);

// Extent of the ink box of a single line of text along its reading direction:
// n * kAdvance * scale - scale (no trailing gap), 0 for empty text.
int text_width(std::string_view text, int scale = 1);
// Extent across the reading direction: kGlyphHeight * scale.
int text_height(int scale = 1);

// Draws one line of text whose ink box has its top-left corner at (x, y). For TextDir::up that
// box is text_height() wide and text_width() tall, with the first character at the bottom.
void draw_text(Canvas& canvas, int x, int y, std::string_view text, Rgba color, int scale = 1,
               TextDir dir = TextDir::right);

}  // namespace splatlm::viz
