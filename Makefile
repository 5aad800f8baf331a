# seedgate — the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
BIN      := bin/seedgate
GOFLAGS  ?=
# Bounded test time: the whole suite must fit CI's budget with room to spare.
TEST_TIMEOUT ?= 20m

.PHONY: run build test test-postgres vet deps bench fuzz clean

## run: install ffmpeg if missing, build, and start the gateway (sandbox + SQLite in ./data)
run: deps build
	./$(BIN) serve

## build: compile the binary into bin/
build:
	$(GO) build $(GOFLAGS) -o $(BIN) ./cmd/seedgate

## deps: install run-time/test dependencies from Debian's packages when missing
deps:
	@./scripts/ensure-deps.sh

## test: vet and run every test (needs ffmpeg; installs it when missing). The
## PostgreSQL half (store suite, several instances) runs when SEEDGATE_TEST_DATABASE_URL is set.
test: deps
	$(GO) vet ./...
	@if [ -n "$$SEEDGATE_TEST_DATABASE_URL" ]; then echo "PostgreSQL tests: on"; \
	else echo "PostgreSQL tests: off (set SEEDGATE_TEST_DATABASE_URL, or run make test-postgres)"; fi
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

## test-postgres: make test with the PostgreSQL half against the local server
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
test-postgres:
	SEEDGATE_TEST_DATABASE_URL='$(PG_TEST_URL)' $(MAKE) test

## browser-test: the web console in headless Chromium (installs Debian's chromium when missing);
## `make test` runs it too once chromium is there. Screenshots go to SEEDGATE_ARTIFACTS_DIR.
.PHONY: browser-test
browser-test: deps
	@./scripts/ensure-browser.sh
	SEEDGATE_ARTIFACTS_DIR=$${SEEDGATE_ARTIFACTS_DIR:-$(CURDIR)/artifacts/console} \
		$(GO) test -count=1 -run TestBrowser -v ./internal/console/

## bench: measure this machine (creates/s and latency through the gateway vs the Ark emulator,
## RSS/CPU with 100,000 tasks in flight, downloads, upstream requests per task, a store of a
## million tasks on SQLite and on the local PostgreSQL): one markdown table, printed and written
## to bench/results.md (about 12 minutes; BENCH_PG= skips PostgreSQL)
BENCH_PG ?= $(PG_TEST_URL)
bench: deps build
	$(GO) run ./bench -bin $(BIN) -pg '$(BENCH_PG)' -out bench/results.md

## bench-micro: the Go benchmarks of every package (store, webhooks, renders, …)
.PHONY: bench-micro
bench-micro: deps
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

## fuzz: every go test -fuzz target for FUZZTIME each (default 8s; CI runs it after make test)
fuzz:
	./scripts/fuzz.sh

clean:
	rm -rf bin
