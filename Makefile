# DCT — decentralized content delivery on Hyperledger Fabric.
#   make demo   bring the whole system up locally (network + chaincode for now)
#   make test   run every test: unit tests and the integration tests against a
#               real Fabric network started for the run
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

ROOT      := $(abspath .)
CACHE     ?= $(ROOT)/.cache
BIN       := $(CACHE)/bin
TOOLS     := $(CACHE)/tools
RUN_DIR   ?= $(ROOT)/.run/network
GO        ?= go
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath
export DCT_CACHE_DIR := $(CACHE)

NETWORK   := $(BIN)/dct-network
CHAINCODE := $(BIN)/dct-chaincode
BUILDER   := $(CACHE)/builder/bin

.PHONY: sim sim-agreement all deps fabric tools browser tzdata build images compose-up compose-demo compose-down compose-stats consortium-guide demo down feed-start feed-stop network-up network-down network-status \
        test test-unit test-integration vet fmt-check clean proto proto-check bench idle-cost deps-check fuzz

all: build

## deps: everything a fresh machine needs (Fabric tools, Go tools, Debian's
## chromium for the frontend failover test)
deps: fabric tools browser tzdata

fabric:
	@scripts/install-fabric.sh

tools:
	@scripts/install-tools.sh

browser:
	@scripts/install-apt.sh chromium chromium jq jq

## tzdata: the city table of make sim and of TestSimulatorAgrees
tzdata:
	@[ -f /usr/share/zoneinfo/zone1970.tab ] || { s=; [ "$$(id -u)" -eq 0 ] || s=sudo; \
	  $$s apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$s apt-get install -y -qq tzdata >/dev/null; }

## proto / proto-check: regenerate proto/dct/v1, or fail when it is stale
proto:
	@scripts/gen-proto.sh

proto-check:
	@scripts/gen-proto.sh --check

## build: DCT binaries into $(BIN) and the external builder into $(CACHE)/builder
build:
	@mkdir -p $(BIN) $(BUILDER)
	$(GOBUILD) -o $(NETWORK) ./test-network/cmd/dct-network
	cd chaincode && $(GOBUILD) -o $(CHAINCODE) ./cmd/dct-chaincode
	$(GOBUILD) -o $(BUILDER)/detect ./network/builder/cmd/ccaas-builder
	@ln -f $(BUILDER)/detect $(BUILDER)/build && ln -f $(BUILDER)/detect $(BUILDER)/release && ln -f $(BUILDER)/detect $(BUILDER)/run
	$(GOBUILD) -o $(BIN)/dct-agent ./edge-agent/cmd/dct-agent
	$(GOBUILD) -o $(BIN)/dct-gateway ./gateway/cmd/dct-gateway
	$(GOBUILD) -o $(BIN)/dct ./cli/cmd/dct
	$(GOBUILD) -o $(BIN)/dct-probe ./pkg/probe/cmd/dct-probe

## images: the compose consortium's FROM-scratch images (dct/agent,
## dct/gateway, dct/chaincode, dct/peer, dct/orderer, dct/tools) from the
## static binaries of make build and make fabric; nothing is pulled.
IMAGE_TAG ?= latest
images: fabric build
	@scripts/build-images.sh $(CACHE) $(IMAGE_TAG)

## compose-up / compose-demo / compose-down: the three-bank consortium of
## docker-compose.yaml; compose-demo publishes the demo portal through
## gateway0 (http://127.0.0.1:$${DCT_GATEWAY0_PORT:-26080}/).
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
compose-up: images
	$(COMPOSE) up -d
compose-demo:
	$(COMPOSE) run --rm dct publish-demo-portal
compose-down:
	$(COMPOSE) down -v

## consortium-guide: scripts/consortium-guide.sh, which follows
## docs/consortium.md on a compose consortium of its own (CCaaS install, a
## fourth bank, on a standard Go package its peer compiles, added and
## removed; 4 to 8 minutes), the test TestConsortiumGuide (test/compose),
## which make test runs with BankD on CCaaS (about 2 minutes; skipped with
## DCT_CONSORTIUM_GUIDE=0).
consortium-guide: images
	DCT_GUIDE_GO_PACKAGE=1 DCT_CACHE_DIR=$(CACHE) $(GO) test -count=1 -p 1 -tags integration -timeout 15m -v -run 'TestConsortiumGuide$$' ./test/compose/

## compose-stats: CPU and memory by kind of container of the running
## compose stack (scripts/container-stats.sh, 3 docker stats snapshots).
compose-stats:
	@scripts/container-stats.sh "$$(docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' $$($(COMPOSE) ps -q | head -n 1))" 3

## network-up / network-down: the Fabric network with the DCT chaincode
network-up: fabric build
	$(NETWORK) up --run-dir $(RUN_DIR)

network-down:
	@if [ -x $(NETWORK) ]; then $(NETWORK) down --run-dir $(RUN_DIR); else echo "nothing to stop"; fi

network-status:
	@$(NETWORK) status --run-dir $(RUN_DIR)

## demo: the whole system, up until `make down`: the Fabric network with the
## chaincode, DEMO_AGENTS edge agents per organisation, DEMO_GATEWAYS gateways
## from DEMO_GATEWAY_PORT on, the sample portal published through them, and
## its quote feed republished every DEMO_FEED_EVERY by `dct feed publish`.
DEMO_AGENTS       ?= 3
DEMO_GATEWAYS     ?= 2
# more dct-network up flags, e.g. --auction=false (agents do not bid, gateways place shards directly)
DEMO_NETWORK_ARGS ?=
DEMO_GATEWAY_PORT ?= 8080
DEMO_FEED_EVERY   ?= 1s
DEMO_FEED         := feeds/portal/quotes.json
FEED_PID          := $(RUN_DIR)/feed.pid
demo: fabric build
	$(NETWORK) up --run-dir $(RUN_DIR) --agents-per-org $(DEMO_AGENTS) --gateways $(DEMO_GATEWAYS) \
	  --gateway-port $(DEMO_GATEWAY_PORT) --bin-dir $(BIN) $(DEMO_NETWORK_ARGS)
	$(BIN)/dct $$($(NETWORK) client-flags --run-dir $(RUN_DIR)) publish-demo-portal
	@$(MAKE) --no-print-directory feed-start
	@echo
	@echo "Live feed: http://127.0.0.1:$(DEMO_GATEWAY_PORT)/cdn/$(DEMO_FEED), republished every $(DEMO_FEED_EVERY) (log $(RUN_DIR)/logs/feed.log); the portal's ticker follows it."
	@echo "DCT demo is up: gateway http://127.0.0.1:$(DEMO_GATEWAY_PORT) (admin listener https://127.0.0.1:$$(($(DEMO_GATEWAY_PORT)+50))), logs in $(RUN_DIR)/logs."
	@echo "Publish more as Org1's publisher (User1) with: $(BIN)/dct \$$($(NETWORK) client-flags --run-dir $(RUN_DIR)) publish DIR"
	@echo "Stop it with: make down"

down: feed-stop network-down

## feed-start / feed-stop: the demo's feed publisher (a background dct feed
## publish as Org1's publisher), stopped by `make down`
feed-start: feed-stop
	@mkdir -p $(RUN_DIR)/logs
	@flags=$$($(NETWORK) client-flags --run-dir $(RUN_DIR)); \
	  nohup $(BIN)/dct $$flags feed publish --every $(DEMO_FEED_EVERY) --quiet $(DEMO_FEED) >>$(RUN_DIR)/logs/feed.log 2>&1 </dev/null & \
	  echo $$! >$(FEED_PID)

feed-stop:
	@if [ -f $(FEED_PID) ]; then kill $$(cat $(FEED_PID)) 2>/dev/null || true; rm -f $(FEED_PID); fi

## deps-check: production binaries link no test-network launcher, and the
## operator CLI no gin, gateway or fabric-gateway package
deps-check:
	@scripts/check-deps.sh

## fuzz: each fuzz target for FUZZTIME (package:target; chaincode/... is in
## the nested module): the Range parser, the publish and purge requests,
## manifest decoding in the codec and in the chaincode records. Seed
## corpora are in each package's testdata/fuzz; a failure is written there.
FUZZTIME     ?= 6s
FUZZ_TARGETS := ./gateway/httpapi:FuzzParseRange ./gateway/httpapi:FuzzPublishRequest \
                ./gateway/httpapi:FuzzPurgeQuery ./pkg/codec:FuzzLayoutFromManifest \
                chaincode/records:FuzzDecodeManifestInput
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; dir=.; \
	  if [[ $$pkg == chaincode/* ]]; then dir=chaincode; pkg=./$${pkg#chaincode/}; fi; \
	  echo "fuzz $$fn in $$pkg for $(FUZZTIME)"; \
	  out=$$(cd $$dir && $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || { echo "$$out"; exit 1; }; \
	  echo "$$out" | tail -n 1; \
	done

## test: unit tests (both modules) then the integration and end-to-end tests
## on real networks; also fails when the generated gRPC code is stale or a
## binary links what it must not (deps-check); runs every fuzz target briefly
test: deps build proto-check deps-check fuzz
	$(TOOLS)/gotestsum --format pkgname-and-test-fails --raw-command -- bash -c '\
	  set -e; \
	  $(GO) test -json -count=1 ./... ; \
	  (cd chaincode && $(GO) test -json -count=1 ./...) ; \
	  DCT_CACHE_DIR=$(CACHE) $(GO) test -json -count=1 -p 1 -tags integration -timeout 20m ./test/...'

test-unit: tools
	$(TOOLS)/gotestsum --format pkgname-and-test-fails --raw-command -- bash -c '\
	  set -e; $(GO) test -json -short ./... ; (cd chaincode && $(GO) test -json -short ./...)'

test-integration: deps build
	DCT_CACHE_DIR=$(CACHE) $(TOOLS)/gotestsum --format standard-verbose -- -count=1 -p 1 -tags integration -timeout 20m ./test/...

## bench: every measured figure with its target and met / not met, the
## baselines measured in the same run: warm serving against Debian's nginx
## and Go's net/http (1 KiB, 100 KiB, 1 MiB), the gateway's codec decode
## against the sum of its raw steps, the serve benchmarks on a real system
## (cold, receipts on and off), a 1M-receipt batch committed and proved, the
## live-feed benchmark, the receipts' log, and the demo topology's idle cost
## (idle-cost). The table at the end (BENCH_REPORT) is what the README
## reports.
BENCH_REPORT ?= $(CACHE)/bench-report.md
bench: deps build
	@scripts/install-apt.sh wrk wrk /usr/sbin/nginx nginx
	@rm -f $(BENCH_REPORT)
	$(GO) test -run XXX -bench 'Encode|Tiny' -benchmem ./pkg/codec/
	$(GO) test -run XXX -bench 'Issue|Append|GroupCommit|1M' -benchtime 2s -cpu 2 ./pkg/receipts/
	@rc=0; \
	  DCT_BENCH_REPORT=$(BENCH_REPORT) DCT_CACHE_DIR=$(CACHE) $(GO) test -tags bench -count=1 -v -run . -timeout 30m ./test/bench/ || rc=$$?; \
	  $(MAKE) --no-print-directory idle-cost RUN_DIR=$(IDLE_RUN_DIR) | tee $(CACHE)/idle-cost.out || rc=1; \
	  grep '^REPORT ' $(CACHE)/idle-cost.out | sed 's/^REPORT //' >>$(BENCH_REPORT) || true; \
	  echo; echo "make bench: every figure of this run (load average $$(cut -d' ' -f1-3 /proc/loadavg))"; \
	  echo "| figure | target | measured | met |"; echo "| --- | --- | --- | --- |"; cat $(BENCH_REPORT); \
	  [ $$rc -eq 0 ] || echo "make bench: a benchmark failed (see above)"; exit $$rc

## idle-cost: the demo topology (make demo) idle: its feed publisher stopped,
## IDLE_SETTLE seconds to settle, then each process's CPU over IDLE_SECONDS
## (share of one core) and RSS, against IDLE_TARGET (half of the 12.4 %
## measured before issue 10's changes); the demo is taken down after.
IDLE_RUN_DIR ?= $(ROOT)/.run/idle
IDLE_SECONDS ?= 60
IDLE_SETTLE  ?= 15
IDLE_TARGET  ?= 6.2
idle-cost: fabric build
	@trap '$(MAKE) --no-print-directory down RUN_DIR=$(RUN_DIR) >/dev/null 2>&1' EXIT; \
	  $(MAKE) --no-print-directory demo RUN_DIR=$(RUN_DIR) >$(CACHE)/idle-demo.log 2>&1 || { cat $(CACHE)/idle-demo.log; exit 1; }; \
	  $(MAKE) --no-print-directory feed-stop RUN_DIR=$(RUN_DIR); \
	  sleep $(IDLE_SETTLE); \
	  scripts/idle-cost.sh $(RUN_DIR) $(IDLE_SECONDS) $(IDLE_TARGET)

## sim: the scale simulation (pkg/sim, README "Scale simulation"): 10,000
## nodes and 1,000,000 requests against centralized PoPs, then every sweep,
## written as CSV, PNG and summary.md into SIM_OUT; the cities are read
## from Debian's tzdata (/usr/share/zoneinfo/zone1970.tab) at run time,
## users spread over them and the largest metro areas by population
## (pkg/sim/population.go; DCT_SIM_USERS=uniform for the old spread).
SIM_OUT ?= docs/sim
sim:
	@[ -f /usr/share/zoneinfo/zone1970.tab ] || { echo "make sim needs Debian's tzdata (apt-get install tzdata)"; exit 1; }
	@mkdir -p $(BIN)
	$(GOBUILD) -o $(BIN)/dct-sim ./pkg/sim/cmd/dct-sim
	$(BIN)/dct-sim --out $(SIM_OUT)

## sim-agreement: the simulator against real processes alone
## (TestSimulatorAgrees; make test runs it too, with the rest of
## test/resilience; see the README)
sim-agreement: deps build
	DCT_CACHE_DIR=$(CACHE) $(GO) test -count=1 -p 1 -tags integration -timeout 20m -v -run 'TestSimulatorAgrees$$' ./test/resilience/

vet:
	$(GO) vet ./... && (cd chaincode && $(GO) vet ./...) && $(GO) vet -tags integration ./test/...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean: network-down
	rm -rf $(ROOT)/.run $(BIN) $(CACHE)/builder
