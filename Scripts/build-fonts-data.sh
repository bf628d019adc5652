#!/usr/bin/env bash
# Rebuilds the embedded fonts dataset and its provenance file from Debian's font packages.
# Usage: Scripts/build-fonts-data.sh   (as root; takes a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
packages=$(grep -v '^#' Scripts/font-packages.txt | tr '\n' ' ')
Scripts/install-deps.sh $packages
swift build -c release --product csn
out=Assets/fonts32.safetensors.gz
command=(.build/release/csn data fonts --fonts-dir /usr/share/fonts --size 32 --seed 1 --max-fonts 1300 --triplets 10000 --out "$out")
"${command[@]}" | tee /tmp/csn-fonts-report.txt

# Provenance: the packages that contributed a kept font, with version and licence.
files=$(.build/release/csn data stats --data "$out" --fonts | awk -F'\t' 'NF==6 {print $6}')
{
  echo "# Provenance of Assets/fonts32.safetensors.gz"
  echo
  echo "32x32 greyscale renderings of 0-9, A-Z, a-z in the fonts below, made with FreeType by csn."
  echo "Rebuilt by \`Scripts/build-fonts-data.sh\`, which installs the packages of Scripts/font-packages.txt and runs:"
  echo
  echo '```'
  echo "${command[*]}"
  echo '```'
  echo
  echo "Build report:"
  echo
  echo '```'
  cat /tmp/csn-fonts-report.txt
  echo '```'
  echo
  echo "| package | version | fonts kept | licence (from /usr/share/doc/PACKAGE/copyright) |"
  echo "| --- | --- | --- | --- |"
  echo "$files" | xargs -d '\n' dpkg -S 2>/dev/null | cut -d: -f1 | sort | uniq -c | sort -k2 | while read -r count pkg; do
    version=$(dpkg-query -W -f='${Version}' "$pkg")
    licence=$( (grep -h '^License:' "/usr/share/doc/$pkg/copyright" 2>/dev/null || true) | sed 's/^License: *//; s/ *$//' \
      | awk 'NF > 0 && length($0) < 40' | sort -u | paste -sd ',' | sed 's/,/, /g')
    echo "| $pkg | $version | $count | ${licence:-see /usr/share/doc/$pkg/copyright} |"
  done
} > Assets/fonts32.PROVENANCE.md.tmp
mv Assets/fonts32.PROVENANCE.md.tmp Assets/fonts32.PROVENANCE.md
echo "wrote $out and Assets/fonts32.PROVENANCE.md"
