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
	objs, err := readManifests(files)
	if err != nil {
		return 0, fmt.Errorf("reading the manifests: %w", err)
	}
	return applyObjects(ctx, cfg, objs, true)
}

// readManifests decodes every object of files.
func readManifests(files []string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			if len(obj.Object) > 0 {
				out = append(out, obj)
			}
		}
	}
	return out, nil
}

// applyObjects server-side applies objs in order (dryRun: validated, not persisted) and
// returns how many it applied, with every problem at once.
func applyObjects(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured, dryRun bool) (int, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return 0, fmt.Errorf("the discovery client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return 0, fmt.Errorf("the dynamic client: %w", err)
	}
	opts := metav1.PatchOptions{FieldManager: fieldManager, Force: ptrTrue()}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var errs []error
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		what := fmt.Sprintf("%s %s", gvk.Kind, obj.GetName())
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			continue
		}
		body, err := yaml.Marshal(obj.Object)
		if err != nil {
			return 0, fmt.Errorf("marshalling %s: %w", obj.GetName(), err)
		}
		var r dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if ns := obj.GetNamespace(); ns != "" {
			r = dyn.Resource(m.Resource).Namespace(ns)
		}
		if _, err := r.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	return len(objs), errors.Join(errs...)
}

func ptrTrue() *bool {
	t := true
	return &t
}
