// Command fakeoperator runs the fake mirrord operator of package fakeoperator as a binary,
// for a cluster or by hand:
//
//	go run ./cmd/fakeoperator --listen 127.0.0.1:18443 --operator-version 3.250.0
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/journal"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "fakeoperator:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	opts      fakeoperator.Options
	tlsCert   string
	tlsKey    string
	clientCA  string
	allowed   string
	expireAt  string
	verbosity int
	caOut     string
	// kubeconfigOut is where a ready kubeconfig for this server goes.
	kubeconfigOut string
	// fixedClock and licenseKey let the binary judge the committed fixtures.
	fixedClock string
	licenseKey string
	naming     string
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("fakeoperator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: fakeoperator [flags]\n\nServes the fake mirrord operator over HTTPS until SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	o := &cfg.opts
	fs.StringVar(&o.Addr, "listen", "127.0.0.1:0", "address to listen on (loopback by default; port 0 picks a free one)")
	fs.StringVar(&o.OperatorVersion, "operator-version", "", "operator SemVer; selects the profile (default "+fakeoperator.DefaultOperatorVersion+")")
	fs.StringVar(&o.Profile, "profile", "", "operator profile by name, overriding the version's: "+strings.Join(fakeoperator.ProfileNames(), ", "))
	fs.StringVar(&o.MinClientVersion, "min-client-version", "", "refuse clients older than this SemVer")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "serving certificate PEM file (self-signed CA and certificate when absent)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "serving key PEM file, with --tls-cert")
	fs.StringVar(&cfg.caOut, "write-ca", "", "write the generated serving CA's PEM to this file")
	fs.StringVar(&cfg.kubeconfigOut, "write-kubeconfig", "", "write a kubeconfig for this server (its URL, CA and a user) to this file, for kubectl and clients")
	fs.StringVar(&o.License.Name, "license-name", "", "licence name (default \"<organization>'s Enterprise License\")")
	fs.StringVar(&o.License.Organization, "license-organization", "", "licence organisation (default Acme)")
	fs.StringVar(&o.License.Plan, "license-plan", "", "licence plan: enterprise (default) or teams")
	fs.StringVar(&o.License.SubscriptionID, "license-subscription-id", "", "licence subscription id")
	fs.StringVar(&o.License.Fingerprint, "license-fingerprint", "", "licence fingerprint clients key their credentials by")
	fs.StringVar(&cfg.expireAt, "license-expire-at", "", "licence end date, YYYY-MM-DD (default one year from now)")
	fs.StringVar(&cfg.licenseKey, "license-key-file", "", "PKCS#8 PEM Ed25519 key of the licence CA (generated when absent); e.g. fixtures/certs/licence-ca.key.pem")
	fs.StringVar(&cfg.fixedClock, "fixed-clock", "", "RFC 3339 instant the operator issues and judges certificates at, instead of now (e.g. the fixtures' 2030-01-01T00:00:00Z)")
	fs.StringVar(&cfg.naming, "headers", "mirrord", "header naming of the contract: mirrord or design-note")
	fs.StringVar(&cfg.clientCA, "requestheader-client-ca", "", "PEM file of the CA that signs front-proxy client certificates; enables X-Remote-* authentication")
	fs.StringVar(&cfg.allowed, "requestheader-allowed-names", "", "comma-separated front-proxy common names to accept (empty: any the CA signed)")
	fs.IntVar(&o.JournalCapacity, "journal-capacity", 0, fmt.Sprintf("most journal entries kept, the newest (GET /_opconform/journal counts the dropped ones in its %s "+
		"header); 0: the profile's, else %d; negative: none", fakeoperator.JournalDroppedHeader, journal.DefaultCapacity))
	fs.Func("journal-skip-users", "comma-separated authenticated users whose requests are served but not journalled (the cluster's own: "+
		"the aggregator's availability checks and discovery)", func(v string) error {
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u == "" {
				return fmt.Errorf("an empty user name in %q", v)
			}
			o.JournalSkipUsers = append(o.JournalSkipUsers, strings.TrimSpace(u))
		}
		return nil
	})
	fs.StringVar(&o.Instance, "instance", "", "a name for this process, which POST /_opconform/reset answers with in its "+fakeoperator.InstanceHeader+
		" header (for a harness that keeps several operators)")
	fs.IntVar(&cfg.verbosity, "v", 0, "log verbosity: 0 start-up and errors, 1 refusals, 2 every request")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return cfg, cfg.complete()
}

// complete reads the files and values the flags name into Options.
func (cfg *config) complete() error {
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.opts.ServingCert = &cert
	}
	if cfg.expireAt != "" {
		t, err := time.Parse("2006-01-02", cfg.expireAt)
		if err != nil {
			return fmt.Errorf("--license-expire-at %q: want YYYY-MM-DD: %w", cfg.expireAt, err)
		}
		cfg.opts.License.ExpireAt = t
	}
	switch cfg.naming {
	case "mirrord":
	case "design-note":
		cfg.opts.Headers = contract.DesignNoteHeaders()
	default:
		return fmt.Errorf("--headers %q: want mirrord or design-note", cfg.naming)
	}
	if cfg.fixedClock != "" {
		t, err := time.Parse(time.RFC3339, cfg.fixedClock)
		if err != nil {
			return fmt.Errorf("--fixed-clock %q: want RFC 3339: %w", cfg.fixedClock, err)
		}
		cfg.opts.Clock = clocktesting.NewFakePassiveClock(t)
	}
	if cfg.licenseKey != "" {
		data, err := os.ReadFile(cfg.licenseKey)
		if err != nil {
			return fmt.Errorf("--license-key-file: %w", err)
		}
		if cfg.opts.LicenseKey, err = credentials.ParseKeyPEM(data); err != nil {
			return fmt.Errorf("--license-key-file %s: %w", cfg.licenseKey, err)
		}
	}
	if cfg.allowed != "" && cfg.clientCA == "" {
		return errors.New("--requestheader-allowed-names needs --requestheader-client-ca")
	}
	if cfg.clientCA != "" {
		pem, err := os.ReadFile(cfg.clientCA)
		if err != nil {
			return fmt.Errorf("--requestheader-client-ca: %w", err)
		}
		fp := &fakeoperator.FrontProxy{ClientCA: pem}
		if cfg.allowed != "" {
			fp.AllowedNames = strings.Split(cfg.allowed, ",")
		}
		cfg.opts.FrontProxy = fp
	}
	return nil
}

func run(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg.opts.Logger = funcr.New(func(prefix, line string) { fmt.Fprintln(stderr, prefix, line) }, funcr.Options{Verbosity: cfg.verbosity})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, stdout)
}

// serve runs the server until ctx ends.
func serve(ctx context.Context, cfg *config, stdout io.Writer) error {
	srv, err := fakeoperator.NewServer(cfg.opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	if cfg.caOut != "" {
		if err := os.WriteFile(cfg.caOut, srv.CAPEM(), 0o644); err != nil {
			return fmt.Errorf("--write-ca: %w", err)
		}
	}
	if cfg.kubeconfigOut != "" {
		if err := journal.WriteKubeconfig(cfg.kubeconfigOut, journal.Kubeconfig{Name: "fakeoperator", Endpoint: &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: srv.CAPEM()}}}); err != nil {
			return fmt.Errorf("--write-kubeconfig: %w", err)
		}
	}
	p := srv.Profile()
	fmt.Fprintf(stdout, "fake operator %s (profile %s) serving on %s\n", srv.Version(), p.Name, srv.URL)
	<-ctx.Done()
	cfg.opts.Logger.Info("stopping", "signal", context.Cause(ctx).Error())
	return nil
}
