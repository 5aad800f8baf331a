# seedgate — the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
BIN      := bin/seedgate
GOFLAGS  ?=
# Bounded test time: the whole suite must fit CI's budget with room to spare.
TEST_TIMEOUT ?= 20m

.PHONY: run build test vet deps bench fuzz clean

## run: install ffmpeg if missing, build, and start the gateway (sandbox + SQLite in ./data)
run: deps build
	./$(BIN) serve

## build: compile the binary into bin/
build:
	$(GO) build $(GOFLAGS) -o $(BIN) ./cmd/seedgate

## deps: install run-time/test dependencies from Debian's packages when missing
deps:
	@./scripts/ensure-deps.sh

## test: vet and run every test (needs ffmpeg; installs it when missing)
test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

## bench: run the benchmarks
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

clean:
	rm -rf bin
