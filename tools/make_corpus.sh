#!/bin/sh
# make_corpus.sh — regenerates data/kjv.txt, the training corpus, from Debian's King James
# Bible packages (bible-kjv: the `bible` program; bible-kjv-text: the text it reads).
#
# `bible` formats for a terminal: it hard-wraps verses at $COLUMNS (79 when unset), starts
# with a blank line and indents verse numbers. A language model should not learn where one
# terminal happened to wrap, so we ask for an effectively infinite line width and tidy up:
#     Genesis 1                 <- chapter heading, a blank line before the next chapter
#
#     1 In the beginning God created the heaven and the earth.
#     2 And the earth was without form, ...   <- one verse per line, "number text"
# The source has a few doubled spaces and one trailing space; those are squeezed out too.
#
# Usage: tools/make_corpus.sh [output]      (default: data/kjv.txt next to this script)
set -eu

out="${1:-$(dirname "$0")/../data/kjv.txt}"
packages="bible-kjv bible-kjv-text"

if ! command -v bible >/dev/null 2>&1 || [ ! -e /usr/lib/bible.data ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y -qq $packages || { apt-get update -qq && apt-get install -y -qq $packages; }
    else
        echo "make_corpus.sh: the bible program is missing; run: sudo apt-get install $packages" >&2
        exit 1
    fi
fi

# Drop the leading blank line, strip verse indentation, squeeze runs of spaces, drop
# trailing spaces.
bible -l100000 "Gen1:1-Rev22:21" \
    | sed -e '1{/^$/d;}' -e 's/^ *//' -e 's/  */ /g' -e 's/ *$//' > "$out.tmp"

# Sanity check: every non-blank line is a chapter heading ("1 Kings 3") or a verse ("3 And ...").
heading='^[1-3]* *[A-Z][A-Za-z ]* [0-9][0-9]*$'
chapters=$(grep -c "$heading" "$out.tmp")
verses=$(grep -v "$heading" "$out.tmp" | grep -c '^[0-9][0-9]* [^ ]')
if [ "$verses" -ne 31102 ] || [ "$chapters" -ne 1189 ]; then
    echo "make_corpus.sh: expected 31102 verses and 1189 chapters, got $verses and $chapters" >&2
    rm -f "$out.tmp"
    exit 1
fi
mv "$out.tmp" "$out"
echo "wrote $out: $(wc -c < "$out") bytes, $chapters chapters, $verses verses"
