# joulevisor convenience Makefile (as neovim has one): the README quick start.
#   make demo   install what is missing, build, run scenarios/default.ini
#   make test   install what is missing, build, run the whole test suite (CTest)
# Variables: BUILD (build directory), CMAKE_FLAGS (extra -D options), JOBS.

BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=
BUILD_TYPE ?= RelWithDebInfo
# Debian 12 packages the build and the tests need.
PKGS := cmake gcc make pkg-config libc6-dev libsqlite3-dev libcsv-dev libgsl-dev \
	check libinih-dev libxxhash-dev sqlite3 libmicrohttpd-dev
# Optional at run time (figures); installed when root, never required.
OPT_PKGS := gnuplot-nox

.PHONY: all deps configure build demo test sanitize memcheck fuzz clean

all: build

deps:
	@missing=""; \
	for p in $(PKGS) $(OPT_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "joulevisor: installing$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null || \
	      { echo "joulevisor: apt-get install$$missing failed"; exit 1; }; \
	  else \
	    echo "joulevisor: missing Debian packages; as root run:"; \
	    echo "  apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/joulevisor run scenarios/default.ini --force

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE memcheck

# The unit tests under valgrind memcheck (CI): zero errors, no definite leaks.
memcheck: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L memcheck

# The CI's second pass: warnings as errors, AddressSanitizer + UBSan.
sanitize:
	$(MAKE) test BUILD=build-asan BUILD_TYPE=Debug CMAKE_FLAGS="-DJV_WERROR=ON -DJV_SANITIZE=ON"

# libFuzzer targets (clang): FUZZ_SECONDS per target, fixed seed.
FUZZ_SECONDS ?= 60
fuzz: deps
	@command -v clang >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq clang libclang-rt-14-dev >/dev/null; } || true
	tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-fuzz
