// For editors and `go vet` on a developer machine. The Docker build does not use it: it builds in
// GOPATH mode against Debian's golang-github-lib-pq-dev (1.10.7), which this pins to match.
module berth-example/api

go 1.19

require github.com/lib/pq v1.10.7
