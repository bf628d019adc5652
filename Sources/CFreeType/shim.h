// FreeType 2 (libfreetype-dev): font loading, outlines, the OS/2 table, Type 1 info.
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H
#include FT_TRUETYPE_TABLES_H
#include FT_TYPE1_TABLES_H
#include FT_SFNT_NAMES_H
#include FT_BBOX_H

// FT_HAS_GLYPH_NAMES and friends are macros that Swift cannot import.
static inline int csn_ft_is_scalable(FT_Face face) { return FT_IS_SCALABLE(face) ? 1 : 0; }
static inline int csn_ft_is_fixed_width(FT_Face face) { return FT_IS_FIXED_WIDTH(face) ? 1 : 0; }
