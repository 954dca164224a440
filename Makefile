# SPDX-License-Identifier: BSD-3-Clause
# A thin wrapper around meson: meson + ninja remain the build.
#   make          build (build/)
#   make demo     install deps, build, start rampartd between two namespaces
#   make demo-stop  stop it and remove everything the demo created
#   make test     install deps, build (gcc -Werror, and clang ASan+UBSan+libFuzzer)
#                 and run the whole suite: unit, fuzz, end-to-end
#   make bench    run rampart-bench's scenarios
BUILD ?= build
SAN ?= build-san
FUZZ_SECONDS ?= 15

.PHONY: all deps build san demo demo-stop test unit unit-san fuzz e2e bench clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(SAN)/build.ninja:
	CC=clang meson setup $(SAN) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dfuzz=true -Djemalloc=disabled -Dbuildtype=debug

san: $(SAN)/build.ninja
	ninja -C $(SAN)

demo: deps build
	@scripts/demo.sh start

demo-stop:
	@scripts/demo.sh stop

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

unit-san: san
	meson test -C $(SAN) --suite unit --print-errorlogs

fuzz: san
	tests/fuzz/run.sh $(SAN) $(FUZZ_SECONDS)

e2e: build san
	tests/e2e/run.sh $(BUILD) $(SAN)

test: deps
	$(MAKE) build san
	tests/run-all.sh $(BUILD) $(SAN) $(FUZZ_SECONDS)

bench: build
	$(BUILD)/rampart-bench all

clean:
	rm -rf $(BUILD) $(SAN)
