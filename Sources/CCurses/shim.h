// ncursesw (libncursesw5-dev / libncurses-dev) with wide characters.
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

// Macros and globals that Swift cannot import, as functions.
static inline int csn_lines(void) { return LINES; }
static inline int csn_cols(void) { return COLS; }
static inline int csn_colors(void) { return COLORS; }
static inline int csn_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t csn_a_bold(void) { return A_BOLD; }
static inline attr_t csn_a_reverse(void) { return A_REVERSE; }
static inline attr_t csn_a_dim(void) { return A_DIM; }
static inline int csn_key_resize(void) { return KEY_RESIZE; }
static inline int csn_key_up(void) { return KEY_UP; }
static inline int csn_key_down(void) { return KEY_DOWN; }
static inline int csn_key_left(void) { return KEY_LEFT; }
static inline int csn_key_right(void) { return KEY_RIGHT; }
static inline int csn_key_btab(void) { return KEY_BTAB; }
static inline int csn_key_enter(void) { return KEY_ENTER; }
static inline int csn_key_backspace(void) { return KEY_BACKSPACE; }
static inline int csn_key_code_yes(void) { return KEY_CODE_YES; }
static inline WINDOW *csn_stdscr(void) { return stdscr; }

// One cell: a wide character with attributes and a colour pair.
static inline int csn_put_cell(int y, int x, wchar_t ch, attr_t attributes, short pair) {
    cchar_t cell;
    wchar_t text[2] = { ch, 0 };
    setcchar(&cell, text, attributes, pair, NULL);
    return mvadd_wch(y, x, &cell);
}
