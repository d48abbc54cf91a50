# authgate in a container: a static binary on an empty base image.
#
#   docker build -t authgate .
#   docker run --rm -e DATABASE_URL=… -e AUTHGATE_SECRET=… -p 127.0.0.1:8080:8080 authgate
#
# The compose files in deploy/{nginx,traefik,caddy}/ build this file. Image names are Docker Hub
# short names on purpose: pull them from whichever registry or mirror your Docker is set up for.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src

# Modules first, in their own layer: it is rebuilt only when go.mod or go.sum change. This also
# fetches sqlc and its dependencies (go.mod lists sqlc as a tool), which the binary never uses;
# the layer stays in the build cache and never reaches the final image.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# CGO off: a static binary that runs on scratch. The cache mount keeps compiled packages
# between builds (BuildKit, the default builder since Docker 23).
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -o /authgate ./cmd/authgate

FROM scratch
# CA roots, for a DATABASE_URL with sslmode=verify-full. Nothing else from the build image.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /authgate /authgate
# Not root. 65532 is the conventional "nonroot" id; scratch has no user database, so it is numeric.
USER 65532:65532
# The binary's default is 127.0.0.1:8080, which nothing outside the container could reach.
ENV AUTHGATE_ADDR=0.0.0.0:8080
EXPOSE 8080
# No shell and no curl in this image, so no HEALTHCHECK: probe GET /readyz from outside
# (an orchestrator, or the proxy) instead.
ENTRYPOINT ["/authgate"]
CMD ["serve"]
