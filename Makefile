# frontdesk — the two commands:
#   go run ./cmd/frontdesk serve    start the service on the embedded default
#   make test                       run the whole suite (starts PostgreSQL/Redis if needed)
#   make test-stress                the suite 5 times on a machine kept busy (see below)

GO ?= go
PKGS ?= ./...
# MODULES are the nested Go modules (each has its own go.mod, so ./... at the
# root does not descend into them); test, test-short, vet, lint and bench
# run in each as well.
MODULES := identity/enforce

.PHONY: test test-short test-stress services build lint bench bench-peers fuzz fmt vet

## test: start the test services if needed, then run every test with the race detector.
test: services
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	@set -e; for m in $(MODULES); do \
	  echo "== $$m (own module)"; \
	  (cd $$m && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 15m ./...); \
	done

## test-stress: run the suite RUNS times (default 5) with -race while two busy
## loops (`yes`) keep both cores loaded, and print how many runs passed. The
## suite must not depend on the machine's speed; this shows it. Narrow it with
## STRESS_PKGS and STRESS_FLAGS, e.g.
##   make test-stress RUNS=1 STRESS_FLAGS=-count=5 STRESS_PKGS=./identity/store/
RUNS ?= 5
STRESS_PKGS ?= $(PKGS)
STRESS_FLAGS ?= -count=1
test-stress: services
	@yes >/dev/null & y1=$$!; yes >/dev/null & y2=$$!; \
	trap 'kill $$y1 $$y2 2>/dev/null' EXIT INT TERM HUP; \
	echo "test-stress: load from yes (PIDs $$y1 and $$y2)"; \
	pass=0; for i in $$(seq 1 $(RUNS)); do \
	  echo "== run $$i of $(RUNS): $(GO) test -race $(STRESS_FLAGS) $(STRESS_PKGS)"; \
	  if $(GO) test -race $(STRESS_FLAGS) -timeout 30m $(STRESS_PKGS); then pass=$$((pass+1)); fi; \
	done; \
	echo "test-stress: $$pass of $(RUNS) runs passed under load"; \
	test $$pass -eq $(RUNS)

## test-short: unit tests only (no database servers needed).
test-short:
	$(GO) test -short -count=1 $(PKGS)
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -short -count=1 ./...); done

## services: make sure PostgreSQL and Redis answer on 127.0.0.1 (installs/starts them if not).
services:
	@bash scripts/services.sh

## build: build the binary into ./bin.
build:
	$(GO) build -o bin/frontdesk ./cmd/frontdesk

## lint: gofmt, go vet and staticcheck.
lint: fmt vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...); done

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done

## bench: run the Go benchmarks (see docs/performance.md).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 $(PKGS)
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -run '^$$' -bench . -benchmem -count 5 ./...); done

## bench-peers: frontdesk beside node-oidc-provider and a bare floor server, same run,
## alternating rounds; prints server CPU per operation and ratios (docs/performance.md).
bench-peers:
	bash scripts/bench-peers.sh

## fuzz: run every fuzz target for FUZZTIME each (default 30s); not part of test.
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done
