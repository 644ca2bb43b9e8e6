package stack

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// fingerprintLen is how many hex digits of a definition's digest name its containers.
const fingerprintLen = 12

// Fingerprint is a digest of what a stateful, worker or job service runs: its image (a
// built one by its content tag), command, arguments, environment, networks, mounts,
// healthcheck and stop grace. Two definitions with the same fingerprint run the same thing.
func Fingerprint(s *Service) string {
	image := s.Image
	if image == "" && s.Build != nil {
		image = s.Build.Tag
	}
	doc, _ := json.Marshal(struct {
		Image     string
		Command   string
		Args      []string
		Env       map[string]string
		Container *spec.Container
		StopGrace time.Duration
	}{image, s.Command, s.Args, s.Env, s.Container, s.StopGrace})
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:])[:fingerprintLen]
}

// NewInstanceID names a new container of s: <service>.<fingerprint>.<8 hex digits>, so that
// what runs tells which definition it runs.
func NewInstanceID(s *Service) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return s.Name + "." + Fingerprint(s) + "." + hex.EncodeToString(b[:])
}

// FingerprintOf is the fingerprint in the ID of one of service's containers, "" when the
// ID is not one NewInstanceID made for it.
func FingerprintOf(service, id string) string {
	rest, ok := strings.CutPrefix(id, service+".")
	if !ok {
		return ""
	}
	fp, _, ok := strings.Cut(rest, ".")
	if !ok || len(fp) != fingerprintLen {
		return ""
	}
	return fp
}

// InstanceSpec is what one container of s runs: image (the built image's ID when built is
// set), command, environment, networks, mounts, healthcheck and stop grace, as the daemon
// maps a routed service's spec.
func InstanceSpec(s *Service, id string, revision int, built string) runtime.InstanceSpec {
	rs := spec.Service{Name: s.Name, StopGrace: spec.Duration(s.StopGrace), Run: spec.Run{
		Image: s.Image, Command: s.Command, Args: s.Args, Env: s.Env, Container: s.Container}}
	if built != "" {
		rs.Run.Image = built
	}
	return fleet.InstanceSpec(store.Instance{ID: id, Service: s.Name, Revision: revision}, rs)
}
