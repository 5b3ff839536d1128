// Command check checks what a goreleaser build left in its dist directory against
// the release configuration: a provider zip in the Terraform Registry's naming for
// every configured target, holding the binary the Registry runs; a remediator
// archive for each of its targets; SHA256SUMS listing every zip and the registry
// manifest with their true hashes; and, for this machine's target, binaries that
// say the version built. `make release-check` runs it on a snapshot.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/release"
)

const project = "terraform-provider-remediation"

func main() {
	dist := flag.String("dist", "dist", "goreleaser's output directory")
	config := flag.String("config", ".goreleaser.yml", "the release configuration")
	sbom := flag.Bool("sbom", false, "every archive has its SPDX SBOM (goreleaser's sboms, by syft)")
	flag.Parse()
	problems, err := check(*dist, *config, *sbom)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "release-check:", p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	fmt.Println("release-check: every archive, the checksums and the manifest are as the Registry expects")
}

func check(dist, config string, sbom bool) ([]string, error) {
	builds, err := release.Builds(config)
	if err != nil {
		return nil, err
	}
	version, err := release.Version(dist)
	if err != nil {
		return nil, err
	}
	sums, err := readSums(filepath.Join(dist, fmt.Sprintf("%s_%s_SHA256SUMS", project, version)))
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, b := range builds {
		for _, t := range b.Targets {
			problems = append(problems, checkArchive(dist, version, b.ID, t, sums)...)
			if sbom {
				problems = append(problems, checkSBOM(dist, archiveName(version, b.ID, t))...)
			}
		}
	}
	manifest := fmt.Sprintf("%s_%s_manifest.json", project, version)
	if want, err := sha256File("terraform-registry-manifest.json"); err != nil {
		problems = append(problems, err.Error())
	} else if sums[manifest] != want {
		problems = append(problems, fmt.Sprintf("SHA256SUMS lists %s as %q, want %s", manifest, sums[manifest], want))
	}
	return append(problems, checkHostVersion(dist, version)...), nil
}

// checkArchive: the archive is there, named as the Registry (or the remediator's
// users) expect, and a provider zip is in SHA256SUMS with its true hash and holds
// terraform-provider-remediation_vX.Y.Z(.exe).
func checkArchive(dist, version, id string, t release.Target, sums map[string]string) []string {
	name := archiveName(version, id, t)
	if id != "provider" {
		if _, err := os.Stat(filepath.Join(dist, name)); err != nil {
			return []string{fmt.Sprintf("no %s: %v", name, err)}
		}
		return nil
	}
	path := filepath.Join(dist, name)
	got, err := sha256File(path)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	if sums[name] != got {
		problems = append(problems, fmt.Sprintf("SHA256SUMS lists %s as %q, want %s", name, sums[name], got))
	}
	binary := fmt.Sprintf("%s_v%s", project, version)
	if t.GOOS == "windows" {
		binary += ".exe"
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return append(problems, fmt.Sprintf("read %s: %v", name, err))
	}
	defer zr.Close()
	found := false
	for _, f := range zr.File {
		found = found || f.Name == binary
	}
	if !found {
		problems = append(problems, fmt.Sprintf("%s does not hold %s", name, binary))
	}
	return problems
}

// archiveName is the archive of a build's target: a provider zip in the Registry's
// naming, or a remediator tarball.
func archiveName(version, id string, t release.Target) string {
	if id != "provider" {
		return fmt.Sprintf("remediator_%s_%s_%s.tar.gz", version, t.GOOS, t.GOARCH)
	}
	return fmt.Sprintf("%s_%s_%s_%s.zip", project, version, t.GOOS, t.GOARCH)
}

// checkSBOM: the archive's SBOM is SPDX JSON that lists what the binary links (both
// binaries link go-git): an SBOM of nothing would pass for one otherwise.
func checkSBOM(dist, archive string) []string {
	name := archive + ".sbom.json"
	data, err := os.ReadFile(filepath.Join(dist, name))
	if err != nil {
		return []string{fmt.Sprintf("no SBOM for %s: %v", archive, err)}
	}
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name string `json:"name"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || !strings.HasPrefix(doc.SPDXVersion, "SPDX-") {
		return []string{fmt.Sprintf("%s is not an SPDX JSON document (spdxVersion %q, %v)", name, doc.SPDXVersion, err)}
	}
	for _, p := range doc.Packages {
		if p.Name == "github.com/go-git/go-git/v5" {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s lists %d packages, not github.com/go-git/go-git/v5, which the binary links", name, len(doc.Packages))}
}

// checkHostVersion runs this machine's remediator (`version`) and checks the
// provider's stamp (it has no version command: Terraform starts it).
func checkHostVersion(dist, version string) []string {
	host := runtime.GOOS + "_" + runtime.GOARCH
	var problems []string
	rem, _ := filepath.Glob(filepath.Join(dist, "remediator_"+host+"*", "remediator"))
	prov, _ := filepath.Glob(filepath.Join(dist, "provider_"+host+"*", project+"_v"+version))
	if len(rem) != 1 || len(prov) != 1 {
		return []string{fmt.Sprintf("no single binary for %s: remediator %v, provider %v", host, rem, prov)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, rem[0], "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "remediator "+version+" (commit ") {
		problems = append(problems, fmt.Sprintf("%s version: %v %q, want remediator %s", rem[0], err, out, version))
	}
	// -trimpath leaves -ldflags out of the build settings: the stamped version is a
	// string in the binary. Run, it must say it is a plugin (it runs on this machine).
	data, err := os.ReadFile(prov[0])
	if err != nil || !bytes.Contains(data, []byte(version)) {
		problems = append(problems, fmt.Sprintf("%s is not stamped with version %s (%v)", prov[0], version, err))
	}
	out, _ = exec.CommandContext(ctx, prov[0]).CombinedOutput()
	if !strings.Contains(string(out), "plugin") {
		problems = append(problems, fmt.Sprintf("%s run directly: %q, want the plugin notice", prov[0], out))
	}
	return problems
}

func readSums(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read checksums: %w", err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sum, name, ok := strings.Cut(sc.Text(), "  "); ok {
			sums[name] = sum
		}
	}
	return sums, sc.Err()
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
