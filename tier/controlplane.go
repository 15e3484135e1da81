package tier

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/pki"
)

// ControlPlane is a real etcd and kube-apiserver on loopback, built from their Go modules
// (scripts/build-control-plane.sh), with the aggregation layer set up to reach a local
// operator: a service range inside 127.0.0.0/8 and aggregator routing through Services.
type ControlPlane struct {
	// URL is kube-apiserver's address.
	URL string
	// Admin is a system:masters configuration, for set-up.
	Admin *rest.Config
	// ServiceRange is the Service cluster IP range (inside 127.0.0.0/8).
	ServiceRange string

	dir        string
	serverCA   *pki.CA
	clientCA   *pki.CA
	frontProxy *pki.CA
	procs      []*exec.Cmd
	names      []string
	logs       []*bytes.Buffer
	// exited is closed when the process of the same index ends.
	exited []chan struct{}
	// timeouts bound its start, its requests and its stop.
	timeouts matrix.Timeouts
}

// serviceRange keeps the operator's Service on a loopback address the aggregator can dial.
const serviceRange = "127.0.10.0/24"

// StartControlPlane starts etcd and kube-apiserver from binDir, each ready within
// t.ControlPlane. Stop ends both; they also die with this process.
func StartControlPlane(ctx context.Context, binDir string, t matrix.Timeouts) (*ControlPlane, error) {
	dir, err := os.MkdirTemp("", "opconform-controlplane-")
	if err != nil {
		return nil, fmt.Errorf("the control plane's directory: %w", err)
	}
	cp := &ControlPlane{dir: dir, ServiceRange: serviceRange, timeouts: t}
	if err := cp.start(ctx, binDir); err != nil {
		logs := cp.tail()
		cp.Stop()
		return nil, fmt.Errorf("starting the control plane: %w (logs: %s)", err, logs)
	}
	return cp, nil
}

func (cp *ControlPlane) start(ctx context.Context, binDir string) error {
	var err error
	for _, ca := range []struct {
		dst  **pki.CA
		name string
	}{{&cp.serverCA, "opconform-server-ca"}, {&cp.clientCA, "opconform-client-ca"}, {&cp.frontProxy, "opconform-front-proxy-ca"}} {
		if *ca.dst, err = pki.NewCA(ca.name); err != nil {
			return fmt.Errorf("the control plane's CAs: %w", err)
		}
	}
	etcdClient, err := freePort("127.0.0.1")
	if err != nil {
		return fmt.Errorf("a port for etcd: %w", err)
	}
	etcdPeer, err := freePort("127.0.0.1")
	if err != nil {
		return fmt.Errorf("a port for etcd's peers: %w", err)
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeer)
	if err := cp.run(filepath.Join(binDir, "etcd"),
		"--data-dir="+filepath.Join(cp.dir, "etcd"), "--name=opconform",
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=opconform="+peerURL, "--unsafe-no-fsync", "--log-level=warn",
	); err != nil {
		return fmt.Errorf("starting etcd: %w", err)
	}
	if err := waitHTTP(ctx, http.DefaultClient, etcdURL+"/health", cp.timeouts.ControlPlane.Duration, cp.exited[0]); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}

	port, err := freePort("127.0.0.1")
	if err != nil {
		return fmt.Errorf("a port for kube-apiserver: %w", err)
	}
	cp.URL = "https://127.0.0.1:" + strconv.Itoa(port)
	files, err := cp.writePKI()
	if err != nil {
		return fmt.Errorf("the control plane's certificates: %w", err)
	}
	saPub, saKey, err := serviceAccountKey(cp.dir)
	if err != nil {
		return fmt.Errorf("the service account key: %w", err)
	}
	if err := cp.run(filepath.Join(binDir, "kube-apiserver"),
		"--etcd-servers="+etcdURL, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port), "--cert-dir="+filepath.Join(cp.dir, "certs"),
		"--tls-cert-file="+files["serving.crt"], "--tls-private-key-file="+files["serving.key"],
		"--client-ca-file="+files["client-ca.crt"],
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file="+saPub, "--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range="+serviceRange, "--enable-aggregator-routing=false",
		"--authorization-mode=RBAC", "--disable-admission-plugins=ServiceAccount", "--allow-privileged=true",
		// the kubernetes Service's endpoint would be loopback, which validation refuses
		"--endpoint-reconciler-type=none",
		"--requestheader-client-ca-file="+files["front-proxy-ca.crt"], "--requestheader-allowed-names="+FrontProxyClientName,
		"--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+files["front-proxy-client.crt"], "--proxy-client-key-file="+files["front-proxy-client.key"],
	); err != nil {
		return fmt.Errorf("starting kube-apiserver: %w", err)
	}
	admin, err := cp.UserConfig("opconform-admin", "system:masters")
	if err != nil {
		return fmt.Errorf("the admin user: %w", err)
	}
	cp.Admin = admin
	hc, err := rest.HTTPClientFor(admin)
	if err != nil {
		return fmt.Errorf("the admin HTTP client: %w", err)
	}
	if err := waitHTTP(ctx, hc, cp.URL+"/readyz", cp.timeouts.ControlPlane.Duration, cp.exited[1]); err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	return nil
}

// FrontProxyClientName is the common name of the aggregator's front-proxy client certificate.
const FrontProxyClientName = "front-proxy-client"

// FrontProxyCA returns the PEM of the CA that signs the aggregator's client certificate.
func (cp *ControlPlane) FrontProxyCA() []byte { return cp.frontProxy.PEM }

// writePKI writes the apiserver's certificates and returns their paths by name.
func (cp *ControlPlane) writePKI() (map[string]string, error) {
	serving, err := cp.serverCA.IssueServer("kube-apiserver", "127.0.0.1", "localhost", "kubernetes.default.svc", "127.0.10.1")
	if err != nil {
		return nil, fmt.Errorf("kube-apiserver's serving certificate: %w", err)
	}
	proxy, err := cp.frontProxy.IssueClient(FrontProxyClientName)
	if err != nil {
		return nil, fmt.Errorf("the front proxy's client certificate: %w", err)
	}
	paths := map[string]string{}
	contents := map[string][]byte{
		"serving.crt": serving.CertPEM, "serving.key": serving.KeyPEM,
		"client-ca.crt": cp.clientCA.PEM, "front-proxy-ca.crt": cp.frontProxy.PEM,
		"front-proxy-client.crt": proxy.CertPEM, "front-proxy-client.key": proxy.KeyPEM,
	}
	files := map[string][]byte{}
	for name, data := range contents {
		paths[name] = filepath.Join(cp.dir, name)
		files[paths[name]] = data
	}
	return paths, writeFiles(files)
}

// UserConfig returns a client configuration for a user authenticated by a client
// certificate (CN user, O groups).
func (cp *ControlPlane) UserConfig(user string, groups ...string) (*rest.Config, error) {
	kp, err := cp.clientCA.IssueClient(user, groups...)
	if err != nil {
		return nil, fmt.Errorf("the certificate of user %s: %w", user, err)
	}
	return &rest.Config{
		Host:            cp.URL,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.serverCA.PEM, CertData: kp.CertPEM, KeyData: kp.KeyPEM},
		Timeout:         cp.timeouts.Request.Duration,
	}, nil
}

// Clientset is the admin's typed client.
func (cp *ControlPlane) Clientset() (*kubernetes.Clientset, error) {
	return kubernetes.NewForConfig(cp.Admin)
}

// run starts a child process that dies with this one.
func (cp *ControlPlane) run(bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", filepath.Base(bin), err)
	}
	cp.procs = append(cp.procs, cmd)
	cp.names = append(cp.names, filepath.Base(bin))
	cp.logs = append(cp.logs, logs)
	exited := make(chan struct{})
	cp.exited = append(cp.exited, exited)
	go func() { _ = cmd.Wait(); close(exited) }()
	return nil
}

// tail is the end of every process's log, for errors.
func (cp *ControlPlane) tail() string {
	var b bytes.Buffer
	for i, l := range cp.logs {
		data := l.Bytes()
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&b, "[%s] %s\n", cp.names[i], data)
	}
	return b.String()
}

// Stop ends kube-apiserver and etcd (in that order, each given the stop timeout to exit)
// and removes their data.
func (cp *ControlPlane) Stop() {
	for i := len(cp.procs) - 1; i >= 0; i-- {
		p, done := cp.procs[i], cp.exited[i]
		_ = syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(cp.timeouts.Stop.Duration):
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	cp.procs = nil
	_ = os.RemoveAll(cp.dir)
}

// waitHTTP polls url until it answers 200, at most timeout, giving up at once when the
// serving process exits.
func waitHTTP(ctx context.Context, hc *http.Client, url string, timeout time.Duration, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %s", url, timeout, last)
		case <-exited:
			return fmt.Errorf("the process serving %s exited", url)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
