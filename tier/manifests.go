package tier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"
)

// ValidateManifests server-side applies every object of files with dryRun=All: the
// apiserver validates them (schema, references, admission) and persists nothing. It returns
// how many objects it validated and every problem at once.
func ValidateManifests(ctx context.Context, cfg *rest.Config, files []string) (int, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return 0, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return n, err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var obj unstructured.Unstructured
			if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return n, fmt.Errorf("%s: %w", file, err)
			}
			if len(obj.Object) == 0 {
				continue
			}
			n++
			gvk := obj.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s %s: %w", file, gvk.Kind, obj.GetName(), err))
				continue
			}
			body, err := yaml.Marshal(obj.Object)
			if err != nil {
				return n, err
			}
			ri := dyn.Resource(m.Resource)
			var r dynamic.ResourceInterface = ri
			if ns := obj.GetNamespace(); ns != "" {
				r = ri.Namespace(ns)
			}
			force := true
			_, err = r.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: "opconform", Force: &force})
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s %s: %w", file, gvk.Kind, obj.GetName(), err))
			}
		}
	}
	return n, errors.Join(errs...)
}
