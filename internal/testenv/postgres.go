package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

var (
	pgOnce    sync.Once
	pgServer  *postgresServer
	pgMissing string
	pgFailure error
)

// postgresServer is a private PostgreSQL server.
type postgresServer struct {
	url  string // the server's maintenance database
	cmd  *exec.Cmd
	data string
	bin  string
	port int
	cred *syscall.Credential // the postgres user's, when running as root
}

// PostgresDB returns the URL of a fresh, empty PostgreSQL database, dropped
// when the test ends. The server is TANDEM_TEST_POSTGRES when set (a URL of
// a role that may create databases); otherwise a private server started
// from the PostgreSQL binaries on the machine, once per test binary. It
// skips (or fails, under TANDEM_REQUIRE_E2E=1) when there are none.
func PostgresDB(t testing.TB) string {
	t.Helper()
	return PostgresDBFrom(t, "")
}

// PostgresDBFrom is PostgresDB, the database a copy of template (one that
// PostgresTemplate made), or empty when template is "".
func PostgresDBFrom(t testing.TB, template string) string {
	t.Helper()
	startPostgresOnce(t)
	name := randomName("tandem_test_")
	create := `CREATE DATABASE ` + name
	if template != "" {
		create += ` TEMPLATE ` + template
	}
	if err := adminExec(create); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() { _ = adminExec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })
	return databaseURL(name)
}

// PostgresTemplate returns the name of a database that fill has filled,
// given its URL: made once per test binary and key, for PostgresDBFrom to
// copy, which is faster than migrating and filling each test's database.
// StopPostgres drops it.
func PostgresTemplate(t testing.TB, key string, fill func(url string) error) string {
	t.Helper()
	startPostgresOnce(t)
	pgTemplates.Lock()
	tmpl := pgTemplates.byKey[key]
	if tmpl == nil {
		tmpl = &pgTemplate{}
		pgTemplates.byKey[key] = tmpl
	}
	pgTemplates.Unlock()
	tmpl.once.Do(func() {
		name := randomName("tandem_template_")
		if tmpl.err = adminExec(`CREATE DATABASE ` + name); tmpl.err != nil {
			return
		}
		tmpl.name = name
		tmpl.err = fill(databaseURL(name))
	})
	if tmpl.err != nil {
		t.Fatalf("prepare the %s template database: %v", key, tmpl.err)
	}
	return tmpl.name
}

// pgTemplates are the template databases PostgresTemplate made, by key.
var pgTemplates = struct {
	sync.Mutex
	byKey map[string]*pgTemplate
}{byKey: map[string]*pgTemplate{}}

type pgTemplate struct {
	once sync.Once
	name string
	err  error
}

func startPostgresOnce(t testing.TB) {
	t.Helper()
	pgOnce.Do(func() { pgServer, pgMissing, pgFailure = startPostgres() })
	need(t, "PostgreSQL", pgMissing, pgFailure)
}

// adminExec runs one statement on the server's maintenance database.
func adminExec(statement string) error {
	admin, err := sql.Open("pgx", pgServer.url)
	if err != nil {
		return fmt.Errorf("open PostgreSQL at %s: %w", pgServer.url, err)
	}
	defer admin.Close()
	_, err = admin.Exec(statement)
	return err
}

func randomName(prefix string) string {
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	return prefix + hex.EncodeToString(suffix)
}

// databaseURL is the URL of a database on the tests' server.
func databaseURL(name string) string {
	u, _ := url.Parse(pgServer.url)
	u.Path = "/" + name
	return u.String()
}

func startPostgres() (*postgresServer, string, error) {
	if u := os.Getenv("TANDEM_TEST_POSTGRES"); u != "" {
		return &postgresServer{url: u}, "", nil
	}
	return newPostgresServer()
}

// newPostgresServer initialises a throwaway cluster and starts it.
func newPostgresServer() (*postgresServer, string, error) {
	bin := postgresBinDir()
	if bin == "" {
		return nil, "no PostgreSQL server binaries (install Debian's postgresql package, or set TANDEM_TEST_POSTGRES to a server URL)", nil
	}
	data, err := os.MkdirTemp("", "tandem-pg-")
	if err != nil {
		return nil, "", err
	}
	s := &postgresServer{data: data, bin: bin}
	// PostgreSQL refuses to run as root: run it as the postgres user then.
	if os.Geteuid() == 0 {
		pgUser, err := user.Lookup("postgres")
		if err != nil {
			return nil, "running as root, and there is no postgres user to run PostgreSQL as", nil
		}
		uid, _ := strconv.Atoi(pgUser.Uid)
		gid, _ := strconv.Atoi(pgUser.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(data, uid, gid); err != nil {
			return nil, "", err
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", s.pgdata(), "-U", "tandem", "--auth=trust", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	if s.port, err = freePort(); err != nil {
		return nil, "", err
	}
	s.url = fmt.Sprintf("postgres://tandem@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	return s, "", s.start()
}

func (s *postgresServer) pgdata() string { return filepath.Join(s.data, "pgdata") }

// start starts the server on its port and waits until it answers.
func (s *postgresServer) start() error {
	log, _ := os.OpenFile(filepath.Join(s.data, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	s.cmd = exec.Command(filepath.Join(s.bin, "postgres"), "-D", s.pgdata(), "-p", strconv.Itoa(s.port), "-k", s.data,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", s.url)
	if err != nil {
		return err
	}
	defer db.Close()
	for db.PingContext(ctx) != nil {
		select {
		case <-ctx.Done():
			return fmt.Errorf("PostgreSQL did not start (see %s)", log.Name())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// stop stops the server (a fast shutdown: sessions are cut).
func (s *postgresServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.cmd = nil
}

// PostgresServer is a private PostgreSQL server one test owns, to stop and
// start under running work.
type PostgresServer struct{ s *postgresServer }

// StartPostgresServer starts a private PostgreSQL server for one test,
// removed when the test ends; it skips or fails like PostgresDB.
func StartPostgresServer(t testing.TB) *PostgresServer {
	t.Helper()
	s, missing, err := newPostgresServer()
	if s != nil {
		t.Cleanup(func() { s.stop(); _ = os.RemoveAll(s.data) })
	}
	need(t, "PostgreSQL", missing, err)
	return &PostgresServer{s: s}
}

// URL is the server's maintenance database; the store's migrations create
// their tables in it.
func (p *PostgresServer) URL() string { return p.s.url }

// Stop stops the server, cutting every session.
func (p *PostgresServer) Stop() { p.s.stop() }

// Start starts the stopped server again on the same port and data.
func (p *PostgresServer) Start(t testing.TB) {
	t.Helper()
	if err := p.s.start(); err != nil {
		t.Fatal(err)
	}
}

// postgresBinDir is where the PostgreSQL server binaries are: beside
// initdb on PATH, or Debian's /usr/lib/postgresql/<version>/bin.
func postgresBinDir() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return ""
	}
	return filepath.Dir(found[len(found)-1])
}

// StopPostgres drops the template databases and stops the shared private
// PostgreSQL server, if one was started.
func StopPostgres() {
	if pgServer == nil {
		return
	}
	for _, tmpl := range pgTemplates.byKey {
		if tmpl.name != "" {
			_ = adminExec(`DROP DATABASE IF EXISTS ` + tmpl.name + ` WITH (FORCE)`)
		}
	}
	pgServer.stop()
	if pgServer.data != "" {
		_ = os.RemoveAll(pgServer.data)
	}
}

// StoreBackend is the database the tests' business stores are on:
// TANDEM_TEST_STORE, "sqlite" by default or "postgres".
func StoreBackend() string { return envOr("TANDEM_TEST_STORE", "sqlite") }
