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

// postgresServer is a private PostgreSQL server of one test binary.
type postgresServer struct {
	url  string // the server's maintenance database
	cmd  *exec.Cmd
	data string
}

// PostgresDB returns the URL of a fresh, empty PostgreSQL database, dropped
// when the test ends. The server is TANDEM_TEST_POSTGRES when set (a URL of
// a role that may create databases); otherwise a private server started
// from the PostgreSQL binaries on the machine, once per test binary. It
// skips (or fails, under TANDEM_REQUIRE_E2E=1) when there are none.
func PostgresDB(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgServer, pgMissing, pgFailure = startPostgres() })
	switch {
	case pgFailure != nil:
		t.Fatalf("start PostgreSQL: %v", pgFailure)
	case pgMissing != "" && os.Getenv("TANDEM_REQUIRE_E2E") == "1":
		t.Fatalf("PostgreSQL test cannot run: %s", pgMissing)
	case pgMissing != "":
		t.Skipf("PostgreSQL test skipped: %s", pgMissing)
	}
	admin, err := sql.Open("pgx", pgServer.url)
	if err != nil {
		t.Fatalf("open PostgreSQL at %s: %v", pgServer.url, err)
	}
	defer admin.Close()
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "tandem_test_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if admin, err := sql.Open("pgx", pgServer.url); err == nil {
			_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			admin.Close()
		}
	})
	u, _ := url.Parse(pgServer.url)
	u.Path = "/" + name
	return u.String()
}

func startPostgres() (*postgresServer, string, error) {
	if u := os.Getenv("TANDEM_TEST_POSTGRES"); u != "" {
		return &postgresServer{url: u}, "", nil
	}
	bin := postgresBinDir()
	if bin == "" {
		return nil, "no PostgreSQL server binaries (install Debian's postgresql package, or set TANDEM_TEST_POSTGRES to a server URL)", nil
	}
	data, err := os.MkdirTemp("", "tandem-pg-")
	if err != nil {
		return nil, "", err
	}
	// PostgreSQL refuses to run as root: run it as the postgres user then.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		pgUser, err := user.Lookup("postgres")
		if err != nil {
			return nil, "running as root, and there is no postgres user to run PostgreSQL as", nil
		}
		uid, _ := strconv.Atoi(pgUser.Uid)
		gid, _ := strconv.Atoi(pgUser.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(data, uid, gid); err != nil {
			return nil, "", err
		}
	}
	s := &postgresServer{data: data}
	pgdata := filepath.Join(data, "pgdata")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", pgdata, "-U", "tandem", "--auth=trust", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	log, _ := os.Create(filepath.Join(data, "postgres.log"))
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", pgdata, "-p", strconv.Itoa(port), "-k", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start postgres: %w", err)
	}
	pgServer = s // so StopPostgres cleans up even if it does not answer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.url = fmt.Sprintf("postgres://tandem@127.0.0.1:%d/postgres?sslmode=disable", port)
	db, err := sql.Open("pgx", s.url)
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	for db.PingContext(ctx) != nil {
		select {
		case <-ctx.Done():
			return nil, "", fmt.Errorf("PostgreSQL did not start (see %s)", log.Name())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return s, "", nil
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

// StopPostgres stops the private PostgreSQL server, if one was started.
func StopPostgres() {
	if pgServer == nil || pgServer.cmd == nil || pgServer.cmd.Process == nil {
		return
	}
	_ = pgServer.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	done := make(chan struct{})
	go func() { _ = pgServer.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgServer.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	_ = os.RemoveAll(pgServer.data)
}

// StoreBackend is the database the tests' business stores are on:
// TANDEM_TEST_STORE, "sqlite" by default or "postgres".
func StoreBackend() string { return envOr("TANDEM_TEST_STORE", "sqlite") }
