package suites

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/version"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/opconform/opconform/fixtures/certs"
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/tier"
)

// describeKindTier is what only a real cluster of Kubernetes version kube can show: the
// operator runs as a pod behind a Service, and the cluster's own aggregator serves it.
func describeKindTier(kube string) {
	Describe("kind tier "+kube, Label("tier:kind"), Ordered, func() {
		var cell matrix.Cell
		var k *tier.KindTier
		var ep *tier.Endpoint

		BeforeEach(func(ctx SpecContext) {
			i := slices.IndexFunc(cells, func(c matrix.Cell) bool {
				return c.Tier == matrix.TierKind && c.Kubernetes == kube && c.Operator.Kind == matrix.KindFake && c.Operator.Profile == "" &&
					c.Operator.MinClientVersion == "" && semverAtLeast(c.Operator.Version, "3.109.0") && c.Client.Driver == matrix.DriverReference
			})
			if i < 0 {
				Skip("no kind-tier cell of " + kube + " with a current fake operator is selected")
			}
			cell = cells[i]
			var err error
			k, err = kind.Cluster(ctx, cell.Kubernetes)
			if errors.Is(err, tier.ErrKindUnavailable) {
				Skip(err.Error())
			}
			Expect(err).NotTo(HaveOccurred(), "the kind cluster of %s", cell.Kubernetes)
			ep, err = k.Start(ctx, cell, clocktesting.NewFakePassiveClock(certs.Epoch))
			Expect(err).NotTo(HaveOccurred(), "deploying operator %s on %s", cell.Operator.Name, k.Name)
			DeferCleanup(ep.Close)
		}, NodeTimeout(theMatrix.Timeouts.KindCell.Duration)) // it may make the cluster: each It has its own bound

		It("serves the operator from a pod behind a Service, through the cluster's aggregator", func(ctx SpecContext) {
			s, err := k.OperatorServing(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.APIServiceAvailable).To(BeTrue(), "APIService %s Available", s.APIService)
			Expect(s.APIServiceTarget).To(Equal(s.Service), "APIService %s points at the Service of the cell's operator", s.APIService)
			Expect(s.PodIPs).NotTo(BeEmpty(), "the Service's endpoints are the operator's pods")
			Expect(s.EndpointIPs).To(ConsistOf(s.PodIPs), "Service %s leads to the running operator pod", s.Service)
			code, body := clusterGet(ctx, ep.Config, "/apis/operator.metalbear.co/v1/mirrordoperators/operator", nil)
			Expect(code).To(Equal(http.StatusOK), body)
			Expect(body).To(ContainSubstring(`"operator_version":"`+cell.Operator.Version+`"`), "the cell's operator answers")
		}, NodeTimeout(time.Minute))

		It("shows the operator the authenticated user, never one the client sent", func(ctx SpecContext) {
			code, body := clusterGet(ctx, ep.Config, "/apis/operator.metalbear.co/v1/mirrordoperators/operator", http.Header{"X-Remote-User": {"mallory"}, "X-Remote-Group": {"system:masters"}})
			Expect(code).To(Equal(http.StatusOK), body)
			entries := ep.Journal()
			Expect(entries).NotTo(BeEmpty(), "the operator journalled the request")
			last := entries[len(entries)-1]
			Expect(last.RemoteUser).To(Equal(ep.User), "the identity the cluster's front proxy asserted")
			Expect(last.Headers["x-remote-user"]).To(Equal([]string{ep.User}), "the client's X-Remote-User was replaced")
		}, NodeTimeout(time.Minute))

		It("answers /version with the cluster's Kubernetes version", func(ctx SpecContext) {
			code, body := clusterGet(ctx, ep.Config, "/version", nil)
			Expect(code).To(Equal(http.StatusOK), body)
			var info version.Info
			Expect(json.Unmarshal([]byte(body), &info)).To(Succeed(), body)
			Expect(info.GitVersion).To(Equal(cell.Kubernetes), "the node image's kube-apiserver is stamped with its version")
		}, NodeTimeout(time.Minute))
	})
}
