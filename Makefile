# Thin wrapper over CMake and the scripts in Resources/scripts and Tests/.
# make run | make test | make unit | make bench | make build | make install | make clean

BUILD      ?= build
ASAN_BUILD ?= build-asan
RELEASE_BUILD ?= build-release
CLANG_BUILD ?= build-clang
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)

.PHONY: all deps build asan release clang fuzz run test unit bench install clean

all: build

deps:
	@bash Resources/scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRR_BUILD_WEBAPP=ON -DRR_BUILD_TESTS=ON -DENABLE_MONGODB=ON
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRR_SANITIZE=ON -DRR_BUILD_WEBAPP=OFF -DRR_BUILD_TESTS=ON -DENABLE_MONGODB=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# What a packager builds (-O3, NDEBUG), and the same with clang: both must
# build without a warning (-Werror) and pass the unit tests.
release: deps
	cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release -DRR_BUILD_WEBAPP=OFF -DRR_BUILD_TESTS=ON
	cmake --build $(RELEASE_BUILD) -j $(JOBS)

clang: deps
	CC=clang cmake -S . -B $(CLANG_BUILD) -DCMAKE_BUILD_TYPE=Release -DRR_BUILD_WEBAPP=OFF -DRR_BUILD_TESTS=ON
	cmake --build $(CLANG_BUILD) -j $(JOBS)

# The libFuzzer targets of Tests/fuzz (clang, ASan+UBSan); make test runs
# each briefly, README "Fuzzing" says how to run them for longer.
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRR_FUZZ=ON -DRR_BUILD_WEBAPP=OFF -DRR_BUILD_TESTS=OFF
	cmake --build $(FUZZ_BUILD) --target rr_fuzz -j $(JOBS)

run: build
	@bash Resources/scripts/run.sh $(BUILD)

test: build asan release clang fuzz
	@bash Tests/run-all.sh $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD) $(CLANG_BUILD) $(FUZZ_BUILD)

# The fast loop: the C unit tests only (no web app, no Orthanc, no sanitizers).
unit:
	cmake -S . -B $(BUILD)-unit -DCMAKE_BUILD_TYPE=Debug -DRR_BUILD_WEBAPP=OFF -DRR_BUILD_TESTS=ON
	cmake --build $(BUILD)-unit -j $(JOBS)
	cd $(BUILD)-unit && CK_FORK=no ctest --output-on-failure

bench: build
	@bash bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD) $(CLANG_BUILD) $(FUZZ_BUILD) $(BUILD)-unit
