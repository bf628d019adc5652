# csn: make run (the main job, release build), make test, make bench, make data, make icons.
SWIFT ?= swift

.PHONY: deps run test bench data icons clean

deps:
	@Scripts/install-deps.sh

run: deps
	$(SWIFT) build -c release --product csn
	.build/release/csn

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

bench: deps
	$(SWIFT) build -c release --product csn
	Scripts/bench.sh

data: deps
	Scripts/build-fonts-data.sh

# A second real dataset from your own images: the 48x48 icons of four Debian icon themes, with the
# conditions icon (what it shows) and theme (how it is drawn), imported with `csn data import`.
ICON_THEMES = adwaita-icon-theme gnome-icon-theme lxde-icon-theme oxygen-icon-theme
icons:
	@Scripts/install-deps.sh $(ICON_THEMES)
	$(SWIFT) build -c release --product csn
	Scripts/icons-csv.sh runs/icons.csv 2
	.build/release/csn data import --images /usr/share/icons --attributes runs/icons.csv --conditions icon,theme \
		--split-column icon --color --out runs/icons.safetensors.gz

clean:
	rm -rf .build
