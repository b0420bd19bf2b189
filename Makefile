# Latchkey developer targets. `make help` lists them.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
STATICCHECK_VERSION := v0.8.2

.PHONY: help build test lint fuzz run ci

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/latchkey with the version stamped in
	go build -ldflags "$(LDFLAGS)" -o bin/latchkey ./cmd/latchkey

test: ## run the tests with the race detector
	go test -race -count=1 ./...

lint: ## gofmt check, go vet, staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

fuzz: ## run every fuzz target for 30 seconds
	FUZZ_TIME=30s bash -c 'grep -rl --include="*_test.go" "^func Fuzz" . | while read -r f; do for t in $$(grep -o "^func Fuzz[A-Za-z0-9_]*" $$f | cut -d" " -f2); do go test -run "^$$" -fuzz "^$$t\$$" -fuzztime $$FUZZ_TIME ./$$(dirname $$f) || exit 1; done; done'

run: ## list the catalog's models
	go run ./cmd/latchkey models ls

ci: ## what CI runs
	bash .ci/run
