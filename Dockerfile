# The Tandem worker and starter, for docker-compose.yml.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/ ./worker ./starter ./trigger

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/worker /out/starter /out/trigger /usr/local/bin/
COPY testdata /testdata
WORKDIR /
ENV TANDEM_CORPUS_DIR=/testdata/corpus
ENTRYPOINT ["/usr/local/bin/worker"]
