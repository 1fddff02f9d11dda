// For editors and `go vet` on a developer machine. The Docker build does not use it: it builds in
// GOPATH mode against Debian's golang-github-lib-pq-dev (1.10.7) and
// golang-github-prometheus-client-golang-dev (1.14.0), which this pins to match. go.sum lists only
// lib/pq: the client's checksums come from `go mod tidy` on a machine that reaches the module proxy.
module berth-example/api

go 1.19

require (
	github.com/lib/pq v1.10.7
	github.com/prometheus/client_golang v1.14.0
)
