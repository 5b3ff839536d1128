package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"text/template"

	"gopkg.in/yaml.v3"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/testenv"
)

// releaseURL is where the guides download a release from; the test serves
// archives named as .goreleaser.yml names them there instead.
const releaseURL = "https://github.com/gitops-remediation/terraform-provider-remediation/releases/download"

// goreleaserNames are the name templates of .goreleaser.yml the guides rely on.
type goreleaserNames struct {
	Builds []struct {
		ID     string `yaml:"id"`
		Binary string `yaml:"binary"`
	} `yaml:"builds"`
	Archives []struct {
		ID           string `yaml:"id"`
		NameTemplate string `yaml:"name_template"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
	} `yaml:"checksum"`
}

// render fills a goreleaser name template for this machine's target.
func render(t *testing.T, tmpl, version string) string {
	t.Helper()
	tp, err := template.New("name").Parse(tmpl)
	if err != nil {
		t.Fatalf(".goreleaser.yml: %q: %v", tmpl, err)
	}
	var b strings.Builder
	data := map[string]string{"ProjectName": "terraform-provider-remediation", "Version": version, "Os": runtime.GOOS, "Arch": runtime.GOARCH}
	if err := tp.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// releaseDir builds both binaries and packs them as the release does: the
// provider's zip, remediator's tar.gz and the SHA256SUMS, named by .goreleaser.yml.
func releaseDir(t *testing.T, root, version string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var g goreleaserNames
	if err := yaml.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	dir, bin := t.TempDir(), t.TempDir()
	names := map[string]string{}
	for _, a := range g.Archives {
		names[a.ID] = render(t, a.NameTemplate, version)
	}
	binaries := map[string]string{}
	for _, b := range g.Builds {
		binaries[b.ID] = render(t, b.Binary, version)
	}
	if names["provider"] == "" || names["remediator"] == "" || binaries["provider"] == "" {
		t.Fatalf(".goreleaser.yml names no provider or remediator archive: %+v", g)
	}
	build := func(pkg, out string) []byte {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, out), "-ldflags", "-X main.version="+version, pkg)
		cmd.Dir = root
		// The environment of the guides' own `go install`, so the build cache serves it.
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, o)
		}
		d, err := os.ReadFile(filepath.Join(bin, out))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	zipName := names["provider"] + ".zip"
	tgzName := names["remediator"] + ".tar.gz"
	writeFile(t, filepath.Join(dir, zipName), string(zipOf(t, binaries["provider"], build(".", binaries["provider"]))))
	writeFile(t, filepath.Join(dir, tgzName), string(tgzOf(t, "remediator", build("./cmd/remediator", "remediator"))))
	var sums strings.Builder
	for _, n := range []string{zipName, tgzName} {
		d, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(d)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), n)
	}
	writeFile(t, filepath.Join(dir, render(t, g.Checksum.NameTemplate, version)), sums.String())
	return dir
}

func zipOf(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tgzOf(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg})
	if err == nil {
		_, err = tw.Write(data)
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = gz.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var releaseVersionRE = regexp.MustCompile(`(?m)^VERSION=(\S+)$`)

// Installing from the release archives, as the guides say, gets a remediator and
// a provider Terraform installs from its filesystem mirror: every guide's release
// block runs in a fresh home against archives named as .goreleaser.yml names them
// (only the download host swapped), then `terraform init` of a configuration that
// requires the provider must install that version from the mirror.
func TestGuideReleaseInstall(t *testing.T) {
	root := testenv.ModuleRoot(t)
	var version, dir string
	var srv *httptest.Server
	ran := 0
	for _, name := range []string{"getting-started-git.md", "getting-started-github.md"} {
		data, err := os.ReadFile(filepath.Join(root, "docs", "guides", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range guideBlocks(t, string(data)) {
			if b.alt != "release" {
				continue
			}
			m := releaseVersionRE.FindStringSubmatch(b.text)
			if m == nil {
				t.Fatalf("%s:%d: the release block sets no VERSION=", name, b.line)
			}
			if srv == nil {
				version = m[1]
				dir = releaseDir(t, root, version)
				srv = httptest.NewServer(http.StripPrefix("/v"+version, http.FileServer(http.Dir(dir))))
				t.Cleanup(srv.Close)
			}
			s := newGuideSession(t)
			swaps := map[string]string{releaseURL: srv.URL}
			if out, err := s.run(t, b, root, swaps); err != nil {
				t.Fatalf("%s:%d: the release install failed: %v\n%s", name, b.line, err, out)
			}
			probe := guideBlock{lang: "sh", text: `mkdir -p ~/probe && cd ~/probe
cat > main.tf <<'TF'
terraform {
  required_providers {
    remediation = { source = "gitops-remediation/remediation" }
  }
}
TF
terraform init -input=false -no-color
remediator version
`}
			out, err := s.run(t, probe, root, nil)
			if err != nil || !strings.Contains(out, "Installing gitops-remediation/remediation v"+version) || !strings.Contains(out, version) {
				t.Fatalf("%s:%d: after the release install: %v\n%s", name, b.line, err, out)
			}
			ran++
		}
	}
	if ran < 2 {
		t.Fatalf("%d guides install from the release archives; the two getting-started guides must", ran)
	}
}
