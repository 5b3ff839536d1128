// Package ociimage builds the remediator's container image without a container
// daemon or a base image to pull: from nothing (scratch), a layer of what a static
// binary needs (users, CA certificates, time zones) and a layer with the binary, for
// each platform, as an OCI image index. The release pushes what this builds, and the
// tests unpack and run the same thing.
package ociimage

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options say what goes into the image.
type Options struct {
	// Binaries maps a platform ("linux/amd64", "linux/arm64") to the static
	// remediator binary built for it.
	Binaries map[string]string
	// CACerts is a PEM bundle (/etc/ssl/certs/ca-certificates.crt by default).
	CACerts string
	// ZoneInfo is Go's zoneinfo.zip (GOROOT's by default).
	ZoneInfo string
	// Version and Revision label the image (org.opencontainers.image.*).
	Version, Revision string
	// Created stamps the config and every file (the commit's time: reproducible).
	Created time.Time
}

// Build makes the image index, one image per platform.
func Build(opts Options) (v1.ImageIndex, error) {
	if len(opts.Binaries) == 0 {
		return nil, fmt.Errorf("build image: no binary")
	}
	if opts.CACerts == "" {
		opts.CACerts = "/etc/ssl/certs/ca-certificates.crt"
	}
	if opts.ZoneInfo == "" {
		// The builder runs where it was built (the release job, a test): its Go tree ships the zone database.
		opts.ZoneInfo = filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip") //nolint:staticcheck // see above
	}
	entries, err := baseEntries(opts.CACerts, opts.ZoneInfo)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	base, err := layerOf(entries, opts.Created)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	platforms := make([]string, 0, len(opts.Binaries))
	for p := range opts.Binaries {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		platform, err := v1.ParsePlatform(p)
		if err != nil || platform.OS != "linux" {
			return nil, fmt.Errorf("build image: platform %q: want linux/ARCH", p)
		}
		img, err := imageFor(base, opts.Binaries[p], platform, opts)
		if err != nil {
			return nil, fmt.Errorf("build image for %s: %w", p, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: platform}})
	}
	return idx, nil
}

func imageFor(base v1.Layer, binary string, platform *v1.Platform, opts Options) (v1.Image, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	app, err := layerOf([]entry{{name: "remediator", mode: 0o755, contents: bin}}, opts.Created)
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, base, app)
	if err != nil {
		return nil, fmt.Errorf("add layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = platform.OS, platform.Architecture, platform.Variant
	cf.Created = v1.Time{Time: opts.Created}
	cf.Config.User = fmt.Sprintf("%d:%d", nonroot, nonroot)
	cf.Config.WorkingDir = "/home/nonroot"
	cf.Config.Entrypoint = []string{"/remediator"}
	cf.Config.Cmd = []string{"serve", "--config", "/etc/remediator/config/remediator.yaml"}
	cf.Config.Env = []string{"PATH=/", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":    "remediator",
		"org.opencontainers.image.licenses": "MPL-2.0",
		"org.opencontainers.image.source":   "https://github.com/gitops-remediation/terraform-provider-remediation",
		"org.opencontainers.image.version":  opts.Version,
		"org.opencontainers.image.revision": opts.Revision,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	return img, nil
}

func layerOf(entries []entry, mtime time.Time) (v1.Layer, error) {
	b, err := tarOf(entries, mtime)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// WriteLayout writes the index as an OCI image layout in dir (emptied first), named
// by tag (org.opencontainers.image.ref.name), as `crane push` and skopeo read it.
func WriteLayout(dir string, idx v1.ImageIndex, tag string) error {
	if strings.TrimSpace(tag) == "" {
		return fmt.Errorf("write image layout: no tag")
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("write image layout: %w", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("write image layout: %w", err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		return fmt.Errorf("write image layout: %w", err)
	}
	return nil
}
