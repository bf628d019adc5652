# csn: make run (the main job, release build), make test, make bench, make data.
SWIFT ?= swift

.PHONY: deps run test bench data clean

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

clean:
	rm -rf .build
