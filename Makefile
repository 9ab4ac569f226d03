# berth — build, test, demo, bench. Run as root on Debian 12.
GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
PKG       := github.com/berth-dev/berth
LDFLAGS   := -s -w -X $(PKG)/runtime/command.Version=$(VERSION) -X $(PKG)/runtime/command.Commit=$(COMMIT)

.PHONY: all build test unit integration demo bench deps-test deps-demo deps-bench clean fuzz

all: build

build: $(BIN)/berth-runtime $(BIN)/berth-shim $(BIN)/berth-init $(BIN)/berthd $(BIN)/berth

# berth-runtime is linked statically: no dynamic loader on the container
# start path, and nothing to resolve from the host's libraries at exec.
$(BIN)/berth-runtime: $(shell find cmd/berth-runtime runtime internal -name '*.go' -o -name '*.c' -o -name '*.h') go.mod go.sum
	@mkdir -p $(BIN)
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags '$(LDFLAGS) -linkmode external -extldflags "-static"' -o $@ ./cmd/berth-runtime

# berth-shim, one per container, is a small static C program: its memory
# is paid once per running container (see shim/doc.go). With musl (Debian's
# musl-tools) a running shim takes about 70 KiB PSS; with glibc about 220.
SHIM_CC ?= $(shell command -v musl-gcc 2>/dev/null || echo $(CC))
$(BIN)/berth-shim: $(wildcard shim/berth-shim/*.c shim/berth-shim/*.h)
	@mkdir -p $(BIN)
	$(SHIM_CC) -static -Os -s -Wall -Wextra -o $@ $(filter %.c,$^)

# berth-init, the PID 1 reaper of --init containers (reaper/doc.go), is
# built as the shim is: static, so it runs in any image, and small.
$(BIN)/berth-init: $(wildcard reaper/berth-init/*.c)
	@mkdir -p $(BIN)
	$(SHIM_CC) -static -Os -s -Wall -Wextra -o $@ $(filter %.c,$^)

$(BIN)/berthd: $(shell find cmd/berthd api daemon image content snapshot archive internal network volume shim -name '*.go') go.mod go.sum
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)' -o $@ ./cmd/berthd

$(BIN)/berth: $(shell find cmd/berth cli api internal -name '*.go') go.mod go.sum
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)' -o $@ ./cmd/berth

deps-test:
	scripts/install-deps test

deps-demo:
	scripts/install-deps demo

deps-bench:
	scripts/install-deps bench

# The whole suite: unit tests and the real-container integration tests.
# Under BERTH_CI=1 a test that needs root or a peer fails instead of skipping.
test: deps-test build
	$(GO) vet ./...
	BERTH_RUNTIME=$(CURDIR)/$(BIN)/berth-runtime BERTHD=$(CURDIR)/$(BIN)/berthd BERTH=$(CURDIR)/$(BIN)/berth $(GO) test -count=1 -timeout 20m ./...

unit:
	$(GO) test -count=1 ./runtime/spec/ ./runtime/seccomp/ ./runtime/cgroups/

demo: deps-demo build
	scripts/demo

bench: deps-bench build
	bench/runtime/run
	bench/images/run
	bench/engine/run
	bench/network/run

# Every fuzz target, FUZZTIME each (default 20s).
fuzz:
	scripts/fuzz

clean:
	rm -rf $(BIN)
