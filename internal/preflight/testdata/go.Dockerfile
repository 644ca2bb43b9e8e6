# A Go service: built with the toolchain, shipped alone on scratch.
FROM golang:1.23.4-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM scratch
COPY --from=build /out/app /app
USER 10001:10001
HEALTHCHECK CMD ["/app", "-healthcheck"]
ENTRYPOINT ["/app"]
