# Each target is a thin wrapper: the logic lives in scripts/, so CI and people run the same thing.
# Extra arguments: make test ARGS='-run TestKey ./verify/...'
.DEFAULT_GOAL := help
.PHONY: help run test proxies generate migrate bench db-stop clean cli

help: ## list the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## build, migrate, print the first admin key, serve on :8080 (private Postgres unless DATABASE_URL)
	scripts/run.sh

test: ## gofmt, vet, sqlc drift check, go test -race, then nginx/Traefik/Caddy end to end
	scripts/test.sh $(ARGS)

proxies: ## install the proxies the end-to-end tests run (cached in ~/.cache/authgate)
	scripts/proxies.sh ensure

generate: ## regenerate the sqlc code from queries/ and the migrations (sqlc is pinned in tools/go.mod)
	scripts/sqlc.sh generate

cli: ## run an authgate command on make run's database: make cli ARGS='users list'
	scripts/cli.sh $(ARGS)

migrate: ## build and apply migrations (private Postgres unless DATABASE_URL)
	scripts/run.sh migrate

bench: ## run the benchmarks (scripts/bench.sh)
	scripts/bench.sh $(ARGS)

db-stop: ## stop the private Postgres
	scripts/devdb.sh stop

clean: ## stop and delete the private Postgres and everything under .data
	scripts/devdb.sh destroy
	rm -rf .data
