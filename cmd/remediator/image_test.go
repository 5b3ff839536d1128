package main

import (
	"archive/tar"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/ociimage"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

// The release's image, built as the release builds it (internal/ociimage, no daemon,
// no base image), written as an OCI layout, read back from disk, unpacked, and run:
// `remediator version` prints the stamped version, and `serve` answers /readyz
// against a local configuration. Its user is not root and it carries the CA
// certificates and time zones a static binary needs.
func TestImageRunsFromItsOCILayout(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image is a Linux one")
	}
	bin := staticRemediator(t, "v9.8.7")
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	opts := ociimage.Options{Binaries: map[string]string{"linux/" + runtime.GOARCH: bin}, Version: "v9.8.7", Revision: "abc", Created: created}
	idx, err := ociimage.Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if err := ociimage.WriteLayout(dir, idx, "v9.8.7"); err != nil {
		t.Fatal(err)
	}
	again, err := ociimage.Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := digestOf(t, idx), digestOf(t, again); a != b {
		t.Errorf("the same inputs made two images: %s, %s", a, b)
	}

	img := imageFromLayout(t, dir)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || strings.Join(cf.Config.Entrypoint, " ") != "/remediator" ||
		cf.Config.Labels["org.opencontainers.image.version"] != "v9.8.7" || cf.Architecture != runtime.GOARCH {
		t.Fatalf("config: user %q, entrypoint %v, labels %v, arch %s", cf.Config.User, cf.Config.Entrypoint, cf.Config.Labels, cf.Architecture)
	}
	rootfs := unpack(t, img)
	for _, f := range []string{"etc/ssl/certs/ca-certificates.crt", "etc/passwd", "tmp"} {
		if _, err := os.Stat(filepath.Join(rootfs, f)); err != nil {
			t.Errorf("the image lacks /%s: %v", f, err)
		}
	}
	tz, err := os.ReadFile(filepath.Join(rootfs, "usr/share/zoneinfo/Europe/Berlin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := time.LoadLocationFromTZData("Europe/Berlin", tz); err != nil {
		t.Fatalf("the image's time zone data: %v", err)
	}

	remediator := filepath.Join(rootfs, "remediator")
	out, err := exec.Command(remediator, "version").CombinedOutput()
	if err != nil || string(out) != "remediator v9.8.7 (commit abc)\n" {
		t.Fatalf("version from the image: %v %q", err, out)
	}
	serveFromImage(t, remediator, rootfs)
}

// staticRemediator builds the remediator as the release does: static, trimmed, with
// its version stamped.
func staticRemediator(t *testing.T, version string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "remediator")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version="+version+" -X main.commit=abc", "-o", bin, "./cmd/remediator")
	build.Dir = testenv.ModuleRoot(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build remediator: %v\n%s", err, out)
	}
	return bin
}

func digestOf(t *testing.T, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// imageFromLayout reads the layout's one index (named by its tag) and the image in it
// for this machine's platform.
func imageFromLayout(t *testing.T, dir string) v1.Image {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "v9.8.7" {
		t.Fatalf("layout index: %+v, want one index named v9.8.7", m.Manifests)
	}
	idx, err := top.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("no image for linux/%s in %+v", runtime.GOARCH, im.Manifests)
	return nil
}

// unpack writes the image's flattened filesystem into a directory.
func unpack(t *testing.T, img v1.Image) string {
	t.Helper()
	rootfs := t.TempDir()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return rootfs
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(rootfs, filepath.FromSlash(filepath.Clean("/"+h.Name)))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeFromTar(target, tr, os.FileMode(h.Mode).Perm())
		default:
			t.Fatalf("unexpected entry %s of type %c", h.Name, h.Typeflag)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "remediator" && (h.Mode&0o111 == 0 || h.Uid != 0) {
			t.Errorf("/remediator: mode %o, owner %d: want an executable owned by root", h.Mode, h.Uid)
		}
	}
}

func writeFromTar(path string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// serveFromImage runs the image's binary as `serve` against a local configuration,
// with the image's CA bundle, until /readyz answers 200.
func serveFromImage(t *testing.T, remediator, rootfs string) {
	cfg := publishedCatalog(t)
	infraRepo(t, cfg)
	addr := freeAddr(t)
	cmd := exec.Command(remediator, "serve", "--config", cfg, "--listen", addr, "--reconcile-interval", "0")
	cmd.Dir = filepath.Dir(cfg)
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+filepath.Join(rootfs, "etc/ssl/certs/ca-certificates.crt"))
	var logs strings.Builder
	w := &syncWriter{w: &logs}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			w.mu.Lock()
			defer w.mu.Unlock()
			t.Fatalf("serve from the image never became ready:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
