// Package results keeps conformance results across runs — every cell of every recorded
// report, which client versions are released and which operator version each environment
// runs — in a SQL store (a SQLite file by default, PostgreSQL for a team), and answers
// can-i-deploy from them: may this client (or operator) version ship, given the versions it
// meets in the field?
package results

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver, pure Go

	"github.com/opconform/opconform/report"
)

// Store is a results store.
type Store struct {
	db       *sql.DB
	postgres bool
	// Name is where the store is, without a password.
	Name string
}

// DefaultPath is the SQLite file used when no --db is given: $OPCONFORM_RESULTS_DB, else
// ~/.local/share/opconform/results.db ($XDG_DATA_HOME when set).
func DefaultPath() string {
	if db := os.Getenv("OPCONFORM_RESULTS_DB"); db != "" {
		return db
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "opconform", "results.db")
}

// IsPostgres reports whether dsn names a PostgreSQL server rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the store at dsn — a postgres:// URL, or a SQLite file path (created with its
// folder) — and brings its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s := &Store{postgres: IsPostgres(dsn), Name: redact(dsn)}
	var err error
	if s.postgres {
		s.db, err = sql.Open("pgx", dsn)
	} else {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o755); err != nil {
			return nil, fmt.Errorf("results store %s: %w", dsn, err)
		}
		// WAL and a busy timeout let two shards record at once; immediate transactions
		// take the write lock up front instead of failing on upgrade
		s.db, err = sql.Open("sqlite", "file:"+dsn+
			"?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	}
	if err != nil {
		return nil, fmt.Errorf("results store %s: %w", s.Name, err)
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("results store %s: %w", s.Name, err)
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// redact drops a password from a postgres:// URL, for messages.
func redact(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	creds, host, ok := strings.Cut(rest, "@")
	if !ok {
		return dsn
	}
	user, _, _ := strings.Cut(creds, ":")
	return scheme + "://" + user + "@" + host
}

// q rewrites a query's ? placeholders for the store's database ($1, $2, … on PostgreSQL).
// The queries of this package hold no ? in literals.
func (s *Store) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Run is one recorded report.
type Run struct {
	// ID is the report's digest (SHA-256, its first 80 bits in hex): recording the same
	// report again finds it.
	ID          string
	Source      string
	Commit      string
	GeneratedAt time.Time
	Cells       int
	// Controls and Caught count the negative controls' requirements that ran, and those
	// reported failing as they must; Missed names those that were not.
	Controls, Caught int
	Missed           []string
}

// Evidence says whether the run's results count: at least one negative control ran, and
// every one was caught. Otherwise why not.
func (r Run) Evidence() (bool, string) {
	switch {
	case r.Controls == 0:
		return false, "it ran no negative control, so nothing shows its checks could fail"
	case r.Caught < r.Controls:
		return false, fmt.Sprintf("%d of its %d negative controls were not caught (%s)", r.Controls-r.Caught, r.Controls, strings.Join(r.Missed, ", "))
	}
	return true, ""
}

// Short is the run as a user names it: its digest's first 12 characters.
func (r Run) Short() string { return r.ID[:12] }

// Record stores every cell of rep, unless the same report was recorded before (then it
// returns the run and false). source and commit, when not empty, stand in for the report's
// own (reports older than those fields lack them).
func (s *Store) Record(ctx context.Context, rep *report.Report, source, commit string) (Run, bool, error) {
	data, err := json.Marshal(rep)
	if err != nil {
		return Run{}, false, fmt.Errorf("encoding the report: %w", err)
	}
	sum := sha256.Sum256(data)
	run := Run{ID: hex.EncodeToString(sum[:10]), Source: rep.Source, Commit: rep.Commit, GeneratedAt: rep.GeneratedAt.UTC(), Cells: len(rep.Cells)}
	if source != "" {
		run.Source = source
	}
	if commit != "" {
		run.Commit = commit
	}
	if run.Source == "" {
		run.Source = "unknown"
	}
	for _, c := range rep.Controls() {
		if c.NotRunHere {
			continue
		}
		run.Controls++
		if c.Caught {
			run.Caught++
		} else {
			run.Missed = append(run.Missed, c.Name+" "+c.Requirement+" in "+c.Cell)
		}
	}
	recorded := false
	err = s.write(ctx, func(w writer) error {
		n, err := w.exec(ctx, `INSERT INTO runs (id, source, commit_sha, generated_at, recorded_at, cells, controls, caught, missed)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			run.ID, run.Source, run.Commit, stamp(run.GeneratedAt), stamp(time.Now()), run.Cells, run.Controls, run.Caught, strings.Join(run.Missed, "\n"))
		if err != nil || n == 0 {
			return err // n == 0: recorded before, a no-op
		}
		recorded = true
		return insertCells(ctx, w, run.ID, rep.Cells)
	})
	if err != nil {
		return run, false, fmt.Errorf("recording run %s: %w", run.Short(), err)
	}
	return run, recorded, nil
}

// insertCells writes cells and their outcomes.
func insertCells(ctx context.Context, w writer, run string, cells []report.Cell) error {
	cellRows := make([][]any, 0, len(cells))
	var outcomeRows [][]any
	for i, c := range cells {
		verdict, why := c.Compatibility()
		cellRows = append(cellRows, []any{run, i, c.ID, c.Client, c.ClientVersion, c.Operator, c.OperatorVersion, c.Tier, c.Kubernetes,
			c.Control, c.MinClientVersion, string(verdict), why, c.Rerun, c.Journal})
		for _, r := range c.Requirements {
			outcomeRows = append(outcomeRows, []any{run, i, string(r.ID), string(r.Outcome), r.Reason, r.Detail})
		}
	}
	if err := w.copy(ctx, "cells", []string{"run_id", "cell_no", "cell_id", "client", "client_version", "operator", "operator_version",
		"tier", "kubernetes", "control", "min_client_version", "verdict", "why", "rerun", "journal"}, cellRows); err != nil {
		return fmt.Errorf("its cells: %w", err)
	}
	if err := w.copy(ctx, "outcomes", []string{"run_id", "cell_no", "requirement", "outcome", "reason", "detail"}, outcomeRows); err != nil {
		return fmt.Errorf("its outcomes: %w", err)
	}
	return nil
}

// stamp is a time as the store keeps it: RFC 3339 in UTC with nanoseconds, which sorts as
// text on both databases.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func parseStamp(s string) time.Time {
	t, _ := time.Parse("2006-01-02T15:04:05.000000000Z", s)
	return t
}

// RecordRelease records that client version is out there (released versions coexist in
// the field). Recording it again is a no-op.
func (s *Store) RecordRelease(ctx context.Context, version string) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO releases (client_version, recorded_at) VALUES (?, ?) ON CONFLICT (client_version) DO NOTHING`),
		version, stamp(time.Now()))
	if err != nil {
		return fmt.Errorf("recording the release of client %s: %w", version, err)
	}
	return nil
}

// UndoRelease removes a recorded client release; it is an error when there is none.
func (s *Store) UndoRelease(ctx context.Context, version string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM releases WHERE client_version = ?`), version)
	if err != nil {
		return fmt.Errorf("undoing the release of client %s: %w", version, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("undoing the release of client %s: no such release is recorded", version)
	}
	return nil
}

// Releases are the recorded client releases, in the order they were recorded.
func (s *Store) Releases(ctx context.Context) ([]string, error) {
	return s.column(ctx, `SELECT client_version FROM releases ORDER BY recorded_at, client_version`)
}

// RecordDeployment records that environment now runs operator version, replacing what it
// ran before (kept, for undo).
func (s *Store) RecordDeployment(ctx context.Context, environment, version string) error {
	if environment == "" {
		return errors.New("recording a deployment: --environment is empty")
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO deployments (environment, operator_version, deployed_at) VALUES (?, ?, ?)`),
		environment, version, stamp(time.Now()))
	if err != nil {
		return fmt.Errorf("recording operator %s in %s: %w", version, environment, err)
	}
	return nil
}

// UndoDeployment takes back the latest deployment to environment: it runs what it ran
// before. It returns the version now deployed there ("" for none).
func (s *Store) UndoDeployment(ctx context.Context, environment string) (string, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM deployments WHERE environment = ? AND deployed_at =
		(SELECT MAX(deployed_at) FROM deployments WHERE environment = ?)`), environment, environment)
	if err != nil {
		return "", fmt.Errorf("undoing the deployment to %s: %w", environment, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", fmt.Errorf("undoing the deployment to %s: no deployment is recorded there", environment)
	}
	return s.Deployed(ctx, environment)
}

// Deployed is the operator version environment runs now ("" when none is recorded).
func (s *Store) Deployed(ctx context.Context, environment string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT operator_version FROM deployments WHERE environment = ? ORDER BY deployed_at DESC LIMIT 1`),
		environment).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("the deployment of %s: %w", environment, err)
	}
	return v, nil
}

// Environments are the environments with a deployment, and what each runs now.
func (s *Store) Environments(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT environment, operator_version FROM deployments d
		WHERE deployed_at = (SELECT MAX(deployed_at) FROM deployments WHERE environment = d.environment)`)
	if err != nil {
		return nil, fmt.Errorf("reading the deployments: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var env, version string
		if err := rows.Scan(&env, &version); err != nil {
			return nil, fmt.Errorf("reading the deployments: %w", err)
		}
		out[env] = version
	}
	return out, rows.Err()
}

// column is the one column query returns, a string a row.
func (s *Store) column(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("reading the results store: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading the results store: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
