package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/Masterminds/semver/v3"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/report"
	"github.com/opconform/opconform/results"
)

const resultsUsage = `usage:
  opconform results record [--db D] [--source S] [--commit C] REPORT.json…
  opconform results record-release --client VERSION [--db D]      (undo-release --client VERSION)
  opconform results record-deployment --operator VERSION --environment ENV [--db D]   (undo-deployment --environment ENV)`

// dbFlag is the --db flag every results command takes.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", results.DefaultPath(), "the results store: a SQLite file, or postgres://user@host:port/db ($OPCONFORM_RESULTS_DB)")
}

// openStore opens the store named by --db, saying which.
func openStore(ctx context.Context, dsn string) (*results.Store, error) {
	if dsn == "" {
		return nil, errors.New("--db: empty")
	}
	return results.Open(ctx, dsn)
}

// version checks a version flag's value.
func version(flagName, v string) error {
	if v == "" {
		return fmt.Errorf("--%s is required", flagName)
	}
	if _, err := semver.StrictNewVersion(v); err != nil {
		return fmt.Errorf("--%s %q: not a version (e.g. 3.251.0): %v", flagName, v, err)
	}
	return nil
}

// resultsCommand records reports, releases and deployments in the results store.
func resultsCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(resultsUsage)
	}
	ctx := context.Background()
	fs := flag.NewFlagSet("opconform results "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	switch args[0] {
	case "record":
		source := fs.String("source", "", "what made the reports, where they do not say (make conformance, ci shard merge, opconform check)")
		commit := fs.String("commit", "", "the commit the reports ran from, where they do not say")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return errors.New("opconform results record: name the report.json files to record")
		}
		s, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer s.Close()
		for _, path := range fs.Args() {
			rep, err := report.ReadJSON(path)
			if err != nil {
				return err
			}
			run, recorded, err := s.Record(ctx, rep, *source, *commit)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			what := "recorded"
			if !recorded {
				what = "already recorded (nothing changed)"
			}
			evidence := fmt.Sprintf("negative controls: %d of %d caught", run.Caught, run.Controls)
			if ok, why := run.Evidence(); !ok {
				evidence = "not counted by can-i-deploy: " + why
			}
			fmt.Fprintf(stdout, "%s: run %s %s in %s — %d cells, %s, commit %s; %s\n",
				path, run.Short(), what, s.Name, run.Cells, run.Source, orUnknown(run.Commit), evidence)
		}
		return nil
	case "record-release", "undo-release":
		client := fs.String("client", "", "the client version released (or taken back)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := version("client", *client); err != nil {
			return err
		}
		s, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer s.Close()
		if args[0] == "undo-release" {
			if err := s.UndoRelease(ctx, *client); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "client %s is no longer recorded as released (%s)\n", *client, s.Name)
			return nil
		}
		if err := s.RecordRelease(ctx, *client); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "client %s recorded as released (%s)\n", *client, s.Name)
		return nil
	case "record-deployment", "undo-deployment":
		operator := fs.String("operator", "", "the operator version deployed")
		env := fs.String("environment", "", "the environment deployed to (e.g. prod)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *env == "" {
			return errors.New("--environment is required")
		}
		if args[0] == "record-deployment" {
			if err := version("operator", *operator); err != nil {
				return err
			}
		}
		s, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer s.Close()
		if args[0] == "undo-deployment" {
			now, err := s.UndoDeployment(ctx, *env)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "the latest deployment to %s is undone: it runs operator %s (%s)\n", *env, orNone(now), s.Name)
			return nil
		}
		if err := s.RecordDeployment(ctx, *env, *operator); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "operator %s recorded as deployed to %s (%s)\n", *operator, *env, s.Name)
		return nil
	}
	return fmt.Errorf("opconform results %s: no such command\n%s", args[0], resultsUsage)
}

// canIDeployCommand answers whether a client (or operator) version may ship: exit 0 when
// every counterpart is safe, errFailing (exit 1) otherwise.
func canIDeployCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform can-i-deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	client := fs.String("client", "", "the client version to ship")
	operator := fs.String("operator", "", "the operator version to ship")
	operators := fs.String("operators", "", "with --client: the operator versions it must work with, comma-separated (default: every environment's)")
	clients := fs.String("clients", "", "with --operator: the client versions it must serve, comma-separated (default: every released one)")
	env := fs.String("to-environment", "", "with --client: the environment whose operator it must work with")
	output := fs.String("output", "text", "text, json, or markdown (a job summary)")
	matrixPath := fs.String("matrix", "matrix.yaml", "the matrix, for the commands that would verify a pair never verified")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *output != "text" && *output != "json" && *output != "markdown" {
		return fmt.Errorf("--output %q: one of text, json, markdown", *output)
	}
	q := results.Query{Client: *client, Operator: *operator, Environment: *env}
	switch {
	case *client != "" && *operator != "":
		return errors.New("can-i-deploy: give --client or --operator, not both")
	case *client != "":
		if err := version("client", *client); err != nil {
			return err
		}
		if *clients != "" {
			return errors.New("can-i-deploy --client: --clients goes with --operator; name operators with --operators")
		}
		q.Counterparts = matrix.SplitNames(*operators)
	case *operator != "":
		if err := version("operator", *operator); err != nil {
			return err
		}
		if *operators != "" {
			return errors.New("can-i-deploy --operator: --operators goes with --client; name clients with --clients")
		}
		q.Counterparts = matrix.SplitNames(*clients)
	default:
		return errors.New("can-i-deploy: give --client VERSION or --operator VERSION")
	}
	for _, v := range q.Counterparts {
		name := "operators"
		if *operator != "" {
			name = "clients"
		}
		if err := version(name, v); err != nil {
			return err
		}
	}
	m, err := matrix.Load(*matrixPath)
	if err != nil {
		if _, statErr := os.Stat(*matrixPath); !os.IsNotExist(statErr) || isSet(fs, "matrix") {
			return err
		}
		m = nil // no matrix here: the hints name no entries
	}
	ctx := context.Background()
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	a, err := s.CanIDeploy(ctx, q, m)
	if err != nil {
		return err
	}
	switch *output {
	case "json":
		data, err := json.MarshalIndent(a, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding the answer: %w", err)
		}
		fmt.Fprintln(stdout, string(data))
	case "markdown":
		a.WriteMarkdown(stdout)
	default:
		a.WriteText(stdout)
	}
	if !a.Safe {
		return errFailing
	}
	return nil
}

// isSet reports whether the flag was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
