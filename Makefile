# NoKV: the usual entry points. Everything here is a thin wrapper over dotnet and deploy/; see README.md.
#   make build | test | bench | run | stop | status | publish | image | image-prebuilt | compose-up | clean

CONFIGURATION ?= Release
# Which benchmark `make bench` runs (storage, raft, cluster; see tests/NoKv.Benchmarks/README.md) and its options.
BENCH ?= storage
BENCH_ARGS ?= --quick
# docker or podman; IMAGE is the tag built.
CONTAINER ?= $(shell command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && echo docker || echo podman)
IMAGE ?= nokv:dev
OUT ?= out

.PHONY: build test bench run stop status publish image image-prebuilt compose-up compose-down clean

build:
	dotnet build NoKv.sln -c $(CONFIGURATION)

# The README's test command (what CI's .ci/run runs).
test:
	dotnet test NoKv.sln -c $(CONFIGURATION)

bench:
	dotnet run -c Release --project tests/NoKv.Benchmarks -- $(BENCH) $(BENCH_ARGS)

# A 3-silo cluster on this machine (deploy/local-cluster.sh); `make stop` stops it.
run:
	deploy/local-cluster.sh start

stop:
	deploy/local-cluster.sh stop

status:
	deploy/local-cluster.sh status

# Framework-dependent builds of the silo and the CLI under $(OUT)/silo and $(OUT)/cli (what a VM or an image needs).
publish:
	dotnet publish silo/NoKv.Silo/NoKv.Silo.csproj -c $(CONFIGURATION) -o $(OUT)/silo -nologo
	dotnet publish client/NoKv.Cli/NoKv.Cli.csproj -c $(CONFIGURATION) -o $(OUT)/cli -nologo

# The container image (multi-stage: builds inside the SDK image).
image:
	$(CONTAINER) build -f deploy/container/Dockerfile -t $(IMAGE) .

# The same image from host-published binaries, for builders that cannot run build steps.
image-prebuilt: publish
	$(CONTAINER) build -f deploy/container/Dockerfile.prebuilt -t $(IMAGE) .

compose-up:
	$(CONTAINER) compose -f deploy/container/compose.yaml up -d --build

compose-down:
	$(CONTAINER) compose -f deploy/container/compose.yaml down

clean:
	dotnet clean NoKv.sln -c $(CONFIGURATION) -nologo -v quiet
	rm -rf $(OUT)
