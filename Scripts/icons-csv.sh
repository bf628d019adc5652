#!/usr/bin/env bash
# Writes a CSV of the 48x48 PNG icons of the Debian icon themes installed under /usr/share/icons
# (columns path, icon, theme, context), keeping icon names drawn by at least MIN_THEMES themes.
# A real image folder with conditions that conflict like character and font do: what an icon
# shows (its name) and the style it is drawn in (its theme). Used by `make icons`.
# Themes derived from one another (gnome, mate, menta) draw many icons identically, so the
# default takes four themes of distinct styles.
# Usage: Scripts/icons-csv.sh OUT.csv [MIN_THEMES] [THEME ...]
set -euo pipefail
out=${1:?usage: icons-csv.sh OUT.csv [MIN_THEMES] [THEME ...]}
min_themes=${2:-3}
shift $(( $# >= 2 ? 2 : 1 ))
themes=("$@")
[ ${#themes[@]} -gt 0 ] || themes=(Adwaita gnome nuoveXT2 oxygen)
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
root=/usr/share/icons
cd "$root"
for theme in "${themes[@]}"; do
  [ -d "$theme" ] || { echo "icons-csv.sh: no icon theme $root/$theme (install its Debian package)" >&2; exit 1; }
done
find -L "${themes[@]}" -path '*48x48*' -name '*.png' -type f | sort | awk -F/ -v min="$min_themes" '
{
    theme = $1; file = $NF; context = $(NF - 1); name = file; sub(/\.png$/, "", name)
    key = name SUBSEP theme
    if (key in seen) next            # one image per icon name and theme
    seen[key] = 1
    paths[++n] = $0; names[n] = name; themes[n] = theme; contexts[n] = context
    count[name]++
}
END {
    print "path,icon,theme,context"
    for (i = 1; i <= n; i++) if (count[names[i]] >= min) printf "%s,%s,%s,%s\n", paths[i], names[i], themes[i], contexts[i]
}' > "$out"
echo "$(($(wc -l < "$out") - 1)) icons in $out (from $root)" >&2
