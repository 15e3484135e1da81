package results

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// writer is one write transaction: statements, and many rows of a table at once — COPY on
// PostgreSQL, multi-row INSERTs on SQLite.
type writer interface {
	// exec runs a statement (? placeholders) and returns the rows it affected.
	exec(ctx context.Context, query string, args ...any) (int64, error)
	copy(ctx context.Context, table string, columns []string, rows [][]any) error
}

// write runs f in one transaction, committed when f returns nil.
func (s *Store) write(ctx context.Context, f func(writer) error) error {
	if !s.postgres {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if err := f(sqlWriter{tx: tx, s: s}); err != nil {
			return err
		}
		return tx.Commit()
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("a PostgreSQL connection of type %T, not pgx's", dc)
		}
		return pgx.BeginFunc(ctx, c.Conn(), func(tx pgx.Tx) error { return f(pgxWriter{tx: tx, s: s}) })
	})
}

type sqlWriter struct {
	tx *sql.Tx
	s  *Store
}

func (w sqlWriter) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := w.tx.ExecContext(ctx, w.s.q(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// batch is how many rows one INSERT carries (15 columns a cell: 6,000 parameters, under
// SQLite's limit of 32,766).
const batch = 400

func (w sqlWriter) copy(ctx context.Context, table string, columns []string, rows [][]any) error {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
	into := "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES "
	args := make([]any, 0, batch*len(columns))
	for len(rows) > 0 {
		n := min(batch, len(rows))
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := w.tx.ExecContext(ctx, into+strings.TrimSuffix(strings.Repeat(one+", ", n), ", "), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

type pgxWriter struct {
	tx pgx.Tx
	s  *Store
}

func (w pgxWriter) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := w.tx.Exec(ctx, w.s.q(query), args...)
	return tag.RowsAffected(), err
}

func (w pgxWriter) copy(ctx context.Context, table string, columns []string, rows [][]any) error {
	_, err := w.tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
	return err
}
