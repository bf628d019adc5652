# csn: make run (the main job, release build), make test (= make unit + make tsan), make fuzz, make hostile, make bench, make data, make icons.
SWIFT ?= swift

.PHONY: deps run test unit tsan fuzz hostile bench data icons protos clean venv bench-venv interop paper

deps:
	@Scripts/install-deps.sh

run: deps
	$(SWIFT) build -c release --product csn
	.build/release/csn

# The tests twice: a debug build, then the same tests under the thread sanitizer.
test: unit tsan

unit: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

# The tests under the thread sanitizer, in their own build folder (a few minutes more to build).
tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	CSN_SANITIZER=thread $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

# The parsers' seeded fuzz tests with many more cases than `make test` runs (CSN_FUZZ_CASES per parser).
fuzz: deps
	$(SWIFT) build --build-tests
	CSN_FUZZ_CASES=$${CSN_FUZZ_CASES:-20000} $(SWIFT) test --skip-build --filter 'Fuzz|BoundedRead|OrdinalBoundary'

# Hostile inputs against the release binary: malformed files, hostile options, faults, terminals.
hostile: deps
	$(SWIFT) build -c release --product csn
	python3 Scripts/hostile/run.py --bin .build/release/csn

bench: deps
	$(SWIFT) build -c release --product csn
	Scripts/bench.sh

data: deps
	Scripts/build-fonts-data.sh

# A second real dataset from your own images: the 48x48 icons of four Debian icon themes, with the
# conditions icon (what it shows) and theme (how it is drawn), imported with `csn data import`.
ICON_THEMES = adwaita-icon-theme gnome-icon-theme lxde-icon-theme oxygen-icon-theme
# The long runs behind the README's tables of the paper's claims (about 2.5 hours on two cores).
paper: deps
	$(SWIFT) build -c release --product csn
	Scripts/paper.sh

icons:
	@Scripts/install-deps.sh $(ICON_THEMES)
	$(SWIFT) build -c release --product csn
	Scripts/icons-csv.sh runs/icons.csv 2
	.build/release/csn data import --images /usr/share/icons --attributes runs/icons.csv --conditions icon,theme \
		--split-column icon --color --out runs/icons.safetensors.gz

# The Swift code of Protos/ (TensorBoard's event records), generated once and committed, so that
# builds need neither protoc nor swift-protobuf's plugin (whose build takes minutes).
protos:
	@Scripts/install-deps.sh protobuf-compiler
	$(SWIFT) build -c release --package-path .build/checkouts/swift-protobuf --product protoc-gen-swift
	protoc --plugin=protoc-gen-swift=.build/checkouts/swift-protobuf/.build/release/protoc-gen-swift \
		--swift_out=Sources/TensorBoard --proto_path=Protos Protos/tensorboard_event.proto

clean:
	rm -rf .build

# The PyTorch trainer beside csn (python/csn_torch, never needed by the Swift build): `make venv`
# makes python/.venv from python/requirements.txt; `make interop` runs its unit tests and then the
# checks against csn (CSN=path picks the csn binary; without it a release build is made first).
PYTHON_VENV = python/.venv
venv: $(PYTHON_VENV)/.installed
$(PYTHON_VENV)/.installed: python/requirements.txt
	test -x $(PYTHON_VENV)/bin/python || python3 -m venv $(PYTHON_VENV)
	$(PYTHON_VENV)/bin/pip install -r python/requirements.txt
	touch $@

# The Python tools of make bench (Tools/requirements.txt: PyTorch, numpy, scikit-learn, openTSNE),
# installed into the same venv so that torch is downloaded once; Scripts/bench.sh uses its python
# (BENCH_PYTHON to pick another). Never needed by make test.
bench-venv: $(PYTHON_VENV)/.bench-installed
$(PYTHON_VENV)/.bench-installed: $(PYTHON_VENV)/.installed Tools/requirements.txt
	$(PYTHON_VENV)/bin/pip install -r Tools/requirements.txt
	touch $@

interop: venv
	@if [ -z "$(CSN)" ]; then $(SWIFT) build -c release --product csn; fi
	cd python && .venv/bin/python -m pytest -q tests
	cd python && CSN="$(if $(CSN),$(abspath $(CSN)),$(CURDIR)/.build/release/csn)" .venv/bin/python -m csn_torch.interop_check
