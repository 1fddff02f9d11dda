// Command api is the example service that Berth's end-to-end tests deploy: a tiny JSON API in
// front of PostgreSQL plus a file store on a named volume, so that a deploy, a rollback and a
// backup/restore all have real state to prove themselves against.
//
// It sticks to the standard library, lib/pq and the Prometheus client so that it builds from
// Debian's packages alone (Go 1.19, GOPATH mode) without a module proxy.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/lib/pq"
)

// version is set at build time with -ldflags "-X main.version=..." so a test can tell builds apart.
var version = "dev"

const (
	listenAddr    = ":8080"
	uploadDir     = "/data/uploads"
	maxUploadSize = 10 << 20
	maxNameLen    = 200
)

// uploadName is deliberately narrow: no slashes, so no way out of uploadDir.
var uploadName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

type server struct {
	db    *sql.DB
	ready atomic.Bool // the items table exists; set once by initDB
	debug bool
}

func main() {
	// Probe mode for the image's HEALTHCHECK: the runtime image has no curl.
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "healthcheck":
			os.Exit(healthcheck("http://127.0.0.1" + listenAddr + "/healthz"))
		case "migrate":
			// A one-off run (Berth's pre-deploy hook): record the schema version, then exit.
			os.Exit(migrate(os.Args[2:]))
		default:
			// Anything else is a mistake (a hook's typo), never a reason to start a server.
			fmt.Fprintf(os.Stderr, "api: unknown command %q (commands: healthcheck, migrate [VERSION])\n", os.Args[1])
			os.Exit(2)
		}
	}

	db, err := openDB()
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	s := &server{db: db, debug: os.Getenv("LOG_LEVEL") == "debug"}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	// The database may start after us (or restart under us): keep retrying in the background and
	// report 503 on /healthz until it answers, instead of crash-looping.
	go s.initDB(ctx)

	srv := &http.Server{
		Addr:              listenAddr,
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	metricsSrv := &http.Server{
		Addr:              metricsAddr,
		Handler:           metricsHandler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := metricsSrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatalf("api: metrics: %v", err)
		}
	}()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		// docker stop sends SIGTERM: finish in-flight requests before the 10s SIGKILL.
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		defer cancel()
		_ = metricsSrv.Close()
		_ = srv.Shutdown(shutdownCtx)
	}()

	log.Printf("api %s listening on %s (metrics on %s)", version, listenAddr, metricsAddr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("api: %v", err)
	}
	// ListenAndServe returns as soon as Shutdown starts: main must wait for the requests in flight,
	// or exiting would cut them off.
	<-drained
	log.Printf("api %s stopped", version)
}

// openDB builds the connection from the environment. The password comes from a file (a compose
// secret) so that it never appears in `docker inspect` or the process environment.
func openDB() (*sql.DB, error) {
	pwFile := os.Getenv("DB_PASSWORD_FILE")
	if pwFile == "" {
		return nil, errors.New("DB_PASSWORD_FILE is not set")
	}
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		return nil, fmt.Errorf("reading the database password: %w", err)
	}
	dsn := fmt.Sprintf("host=%s port=%s user=%s dbname=%s password=%s sslmode=disable connect_timeout=5",
		quoteDSN(envOr("DB_HOST", "db")), quoteDSN(envOr("DB_PORT", "5432")),
		quoteDSN(envOr("DB_USER", "app")), quoteDSN(envOr("DB_NAME", "app")),
		quoteDSN(strings.TrimRight(string(pw), "\r\n")))
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// quoteDSN quotes a value for lib/pq's key=value connection string.
func quoteDSN(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// initDB creates the schema, retrying with a capped backoff until the database accepts it.
func (s *server) initDB(ctx context.Context) {
	const schema = `CREATE TABLE IF NOT EXISTS items (
		id         bigserial PRIMARY KEY,
		name       text NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now()
	)`
	delay := 500 * time.Millisecond
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := s.db.ExecContext(attemptCtx, schema)
		cancel()
		if err == nil {
			s.ready.Store(true)
			log.Printf("database ready")
			return
		}
		log.Printf("database not ready (retrying in %s): %v", delay, err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if delay < 5*time.Second {
			delay *= 2
		}
	}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", s.handleHealth)
	mux.HandleFunc("/version", s.handleVersion)
	mux.HandleFunc("/items", s.handleItems)
	mux.HandleFunc("/uploads/", handleUploads)
	mux.HandleFunc("/slow", handleSlow)
	counted := instrument(mux)
	if !s.debug {
		return counted
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		counted.ServeHTTP(w, r)
		log.Printf("%s %s %s", r.Method, r.URL.Path, time.Since(start).Round(time.Microsecond))
	})
}

// handleHealth reports ok only when the database answers, so that `docker compose up --wait` and
// Berth's post-deploy verification catch a broken database connection, not just a live process.
func (s *server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	status, dbStatus := http.StatusOK, "ok"
	if err := s.ping(r.Context()); err != nil {
		// The reason goes to the log, not to whoever can reach /healthz through nginx.
		log.Printf("healthz: database: %v", err)
		status, dbStatus = http.StatusServiceUnavailable, "unavailable"
	}
	writeJSON(w, status, map[string]string{"status": statusWord(status), "db": dbStatus, "version": version})
}

func (s *server) ping(ctx context.Context) error {
	if !s.ready.Load() {
		return errors.New("not initialised")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func statusWord(code int) string {
	if code == http.StatusOK {
		return "ok"
	}
	return "unavailable"
}

// handleVersion reports the build and the schema version the last migration recorded ("" before
// any), so a deploy can show that its pre-deploy migration reached the database the release uses.
// maxSlow bounds /slow, so that nobody holds a connection open for long through it.
const maxSlow = 10 * time.Second

// handleSlow answers after ?ms= milliseconds (at most maxSlow): a request still in flight while a
// release switches, for the zero-downtime tests. A server shutting down lets it finish (Shutdown).
func handleSlow(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > maxSlow {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "ms must be a whole number from 0 to 10000"})
		return
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"version": version, "slept_ms": strconv.Itoa(ms)})
}

func (s *server) handleVersion(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	schema := ""
	if s.ready.Load() {
		var err error
		if schema, err = latestSchema(r.Context(), s.db); err != nil {
			dbError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"version": version, "schema": schema})
}

type item struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *server) handleItems(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if !s.ready.Load() {
		httpError(w, http.StatusServiceUnavailable, "database not ready")
		return
	}
	if r.Method == http.MethodPost {
		s.createItem(w, r)
		return
	}
	rows, err := s.db.QueryContext(r.Context(), "SELECT id, name, created_at FROM items ORDER BY id LIMIT 1000")
	if err != nil {
		dbError(w, err)
		return
	}
	defer rows.Close()
	items := []item{} // encode an empty table as [], not null
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.ID, &it.Name, &it.CreatedAt); err != nil {
			dbError(w, err)
			return
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		dbError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, items)
}

func (s *server) createItem(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		httpError(w, http.StatusBadRequest, "body must be JSON like {\"name\":\"...\"}")
		return
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > maxNameLen {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("name must be 1 to %d bytes", maxNameLen))
		return
	}
	it := item{Name: in.Name}
	err := s.db.QueryRowContext(r.Context(),
		"INSERT INTO items (name) VALUES ($1) RETURNING id, created_at", in.Name).Scan(&it.ID, &it.CreatedAt)
	if err != nil {
		dbError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, it)
}

// handleUploads stores and serves opaque files on the uploads volume (state outside the database,
// for Berth's volume backups to cover).
func handleUploads(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead, http.MethodPut) {
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/uploads/")
	// "." and ".." match the character class but name directories, not files.
	if !uploadName.MatchString(name) || name == "." || name == ".." {
		httpError(w, http.StatusBadRequest, "name must match [A-Za-z0-9._-]+")
		return
	}
	path := filepath.Join(uploadDir, name)
	if r.Method == http.MethodPut {
		putUpload(w, r, path)
		return
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		httpError(w, http.StatusNotFound, "no such upload")
		return
	}
	if err != nil {
		log.Printf("open %s: %v", path, err)
		httpError(w, http.StatusInternalServerError, "cannot read upload")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		httpError(w, http.StatusNotFound, "no such upload")
		return
	}
	// Never let a browser sniff an uploaded file into HTML.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// putUpload writes to a temporary file and renames it, so a reader or a backup never sees half a file.
func putUpload(w http.ResponseWriter, r *http.Request, path string) {
	tmp, err := os.CreateTemp(uploadDir, ".upload-*")
	if err != nil {
		log.Printf("create temp in %s: %v", uploadDir, err)
		httpError(w, http.StatusInternalServerError, "cannot store upload")
		return
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	n, err := io.Copy(tmp, http.MaxBytesReader(w, r.Body, maxUploadSize))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, "upload too large")
			return
		}
		log.Printf("write %s: %v", path, err)
		httpError(w, http.StatusInternalServerError, "cannot store upload")
		return
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		log.Printf("rename to %s: %v", path, err)
		httpError(w, http.StatusInternalServerError, "cannot store upload")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"name": filepath.Base(path), "size": n})
}

// allow answers 405 with an Allow header unless the request uses one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	httpError(w, http.StatusMethodNotAllowed, "method not allowed")
	return false
}

func dbError(w http.ResponseWriter, err error) {
	log.Printf("database: %v", err)
	httpError(w, http.StatusServiceUnavailable, "database error")
}

func httpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("writing response: %v", err)
	}
}

func healthcheck(url string) int {
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		fmt.Fprintf(os.Stderr, "healthcheck: %s %s\n", resp.Status, strings.TrimSpace(string(body)))
		return 1
	}
	return 0
}
