package kube

import (
	"context"
	"fmt"
	"slices"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// allowed asks the apiserver (SelfSubjectAccessReview) whether this client may verb resource
// in the namespace; a denial is an error naming the namespace, verb and resource.
func (d *Driver) allowed(ctx context.Context, verb, resource string) error {
	r := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authzv1.ResourceAttributes{Namespace: d.opts.Namespace, Verb: verb, Resource: resource}}}
	got, err := d.opts.Client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, r, createOpts)
	if err != nil {
		return fmt.Errorf("namespace %s: access review: %w", d.opts.Namespace, err)
	}
	if !got.Status.Allowed {
		return fmt.Errorf("namespace %s: %w: this client may not %s %s there", d.opts.Namespace, errForbidden, verb, resource)
	}
	return nil
}

// imageOnNode reports whether some node lists image among the images it holds.
func (d *Driver) imageOnNode(ctx context.Context, image string) error {
	nodes, err := d.opts.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("image %s: list nodes: %w", image, err)
	}
	for _, n := range nodes.Items {
		for _, img := range n.Status.Images {
			if slices.Contains(img.Names, image) {
				return nil
			}
		}
	}
	return fmt.Errorf("image %s: no node has it, and imagePullPolicy is Never", image)
}
