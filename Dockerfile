# frontdesk container image: a static binary on distroless, run as non-root.
# Docker cannot run on the development machine: TestDeploymentRecipe
# (cmd/frontdesk) builds the tests' binary with this file's go build command
# and runs it with this file's ENV; see docs/operations.md "Deployment".
#
#   docker build -t frontdesk:dev .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
# identity/enforce is its own module, replaced by its directory in go.mod:
# its go.mod must be present before the download.
COPY identity/enforce/go.mod identity/enforce/go.sum ./identity/enforce/
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" \
      -o /out/frontdesk ./cmd/frontdesk && \
    mkdir -p /out/var/lib/frontdesk/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/frontdesk /usr/local/bin/frontdesk
# 65532 is distroless's nonroot user; the data directory must be writable by it.
COPY --from=build --chown=65532:65532 /out/var/lib/frontdesk /var/lib/frontdesk
# The embedded SQLite default keeps its database here; mount a volume. With
# PostgreSQL nothing durable is written to disk.
WORKDIR /var/lib/frontdesk
ENV FRONTDESK_DATA_DIR=/var/lib/frontdesk/data \
    FRONTDESK_SERVER_LISTEN=:8080
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/frontdesk"]
CMD ["serve"]
