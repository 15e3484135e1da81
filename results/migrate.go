package results

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// migrations are the schema's versions, in order: migration i+1 is migrations[i]. A change
// to the schema is a new entry at the end; entries are never edited once released. The SQL
// is what SQLite and PostgreSQL both take, but for WITHOUT_ROWID: SQLite's clustered
// tables, where the primary key is the table (nothing on PostgreSQL).
var migrations = []string{
	// 1: runs, their cells and outcomes; released clients; deployed operators. Outcomes are
	// written with their cells in one transaction and carry no foreign key: checking one per
	// row would double PostgreSQL's time to record a run.
	`CREATE TABLE runs (
		id           TEXT PRIMARY KEY,
		source       TEXT NOT NULL,
		commit_sha   TEXT NOT NULL,
		generated_at TEXT NOT NULL,
		recorded_at  TEXT NOT NULL,
		cells        INTEGER NOT NULL,
		controls     INTEGER NOT NULL,
		caught       INTEGER NOT NULL,
		missed       TEXT NOT NULL
	);
	CREATE TABLE cells (
		run_id             TEXT NOT NULL REFERENCES runs (id),
		cell_no            INTEGER NOT NULL,
		cell_id            TEXT NOT NULL,
		client             TEXT NOT NULL,
		client_version     TEXT NOT NULL,
		operator           TEXT NOT NULL,
		operator_version   TEXT NOT NULL,
		tier               TEXT NOT NULL,
		kubernetes         TEXT NOT NULL,
		control            TEXT NOT NULL,
		min_client_version TEXT NOT NULL,
		verdict            TEXT NOT NULL,
		why                TEXT NOT NULL,
		rerun              TEXT NOT NULL,
		journal            TEXT NOT NULL,
		PRIMARY KEY (run_id, cell_no)
	) WITHOUT_ROWID;
	CREATE INDEX cells_by_pair ON cells (client_version, operator_version);
	CREATE TABLE outcomes (
		run_id      TEXT NOT NULL,
		cell_no     INTEGER NOT NULL,
		requirement TEXT NOT NULL,
		outcome     TEXT NOT NULL,
		reason      TEXT NOT NULL,
		detail      TEXT NOT NULL,
		PRIMARY KEY (run_id, cell_no, requirement)
	) WITHOUT_ROWID;
	CREATE TABLE releases (
		client_version TEXT PRIMARY KEY,
		recorded_at    TEXT NOT NULL
	);
	CREATE TABLE deployments (
		environment      TEXT NOT NULL,
		operator_version TEXT NOT NULL,
		deployed_at      TEXT NOT NULL,
		PRIMARY KEY (environment, deployed_at)
	)`,
}

// migrate brings the schema to the newest version, each step in a transaction of its own
// and recorded in schema_migrations. Two processes opening a new store at once are safe:
// the loser of a step's insert finds it done.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("the schema's version table: %w", err)
	}
	var have int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("the schema's version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("the schema is at version %d, newer than this opconform knows (%d): use a newer opconform", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		if err := s.step(ctx, v); err != nil {
			return fmt.Errorf("migrating the schema to version %d: %w", v, err)
		}
	}
	return nil
}

func (s *Store) step(ctx context.Context, v int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var done int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), v).Scan(&done); err != nil {
		return err
	}
	if done > 0 {
		return nil // another process applied it
	}
	if s.postgres {
		// one migrator at a time on a shared server
		if _, err := tx.ExecContext(ctx, `LOCK TABLE schema_migrations IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), v).Scan(&done); err != nil || done > 0 {
			return err
		}
	}
	withoutRowID := "WITHOUT ROWID"
	if s.postgres {
		withoutRowID = ""
	}
	for _, statement := range strings.Split(strings.ReplaceAll(migrations[v-1], "WITHOUT_ROWID", withoutRowID), ";\n") {
		if _, err := tx.ExecContext(ctx, statement); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), v, stamp(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}
