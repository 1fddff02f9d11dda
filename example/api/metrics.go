package main

// Prometheus metrics with the official Go client (Debian's golang-github-prometheus-client-golang-dev,
// GOPATH mode). They are served on their own listener (metricsAddr), never on the port nginx
// proxies to: only what sits on the monitoring network can scrape them.

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const metricsAddr = ":9464"

// unmatchedRoute labels requests that no route matched, so that the route label stays bounded
// whatever paths clients send.
const unmatchedRoute = "unmatched"

var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "api_http_requests_total",
		Help: "HTTP requests by matched route pattern and status code.",
	}, []string{"route", "code"})

	// A bucket boundary at 2 s: the "responses under 2 seconds" alert compares p95 with it.
	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "api_http_request_duration_seconds",
		Help:    "HTTP request latency by matched route pattern.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10},
	}, []string{"route"})

	buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "api_build_info",
		Help: "Always 1; the version label is the build's VERSION, so a rule can match a release.",
	}, []string{"version"})
)

// registry holds the api's metrics plus the Go runtime's and the process's (process_start_time_seconds
// shows restarts).
var registry = func() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(requestsTotal, requestDuration, buildInfo,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	buildInfo.WithLabelValues(version).Set(1)
	return r
}()

func metricsHandler() http.Handler {
	return promhttp.HandlerFor(registry, promhttp.HandlerOpts{})
}

// statusRecorder remembers the status code a handler wrote (200 when it wrote none).
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// instrument counts and times every request under the pattern mux matched for it, never the raw
// path.
func instrument(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, route := mux.Handler(r)
		if route == "" {
			route = unmatchedRoute
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		start := time.Now()
		mux.ServeHTTP(rec, r)
		requestDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		requestsTotal.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
	})
}
