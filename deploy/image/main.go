// Command image builds the remediator's container image (internal/ociimage) from the
// binaries of a goreleaser build, writes it as an OCI layout, and pushes it when
// asked: no container daemon, no base image to pull. The release workflow runs it
// after goreleaser; `make release-check` and the tests build the same image.
//
//	go run ./deploy/image --dist dist --layout dist/image --tag v1.2.3 [--push REPO]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/ociimage"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/release"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	dist := fs.String("dist", "dist", "goreleaser's output directory (its artifacts.json names the binaries)")
	out := fs.String("layout", "dist/image", "where to write the OCI image layout")
	tag := fs.String("tag", "", "the image's tag: the release's Git tag, vX.Y.Z (default: v + the version in the dist's metadata.json)")
	revision := fs.String("revision", "", "the commit the image is built from")
	created := fs.Int64("created", 0, "the image's time, in Unix seconds (the commit's: reproducible)")
	push := fs.String("push", "", "a repository to push the image to, as REPO:TAG and REPO:latest")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *tag == "" {
		v, err := release.Version(*dist)
		if err != nil {
			return err
		}
		*tag = "v" + v
	}
	binaries, err := linuxBinaries(filepath.Join(*dist, "artifacts.json"))
	if err != nil {
		return err
	}
	idx, err := ociimage.Build(ociimage.Options{
		Binaries: binaries, Version: *tag, Revision: *revision, Created: time.Unix(*created, 0).UTC(),
	})
	if err != nil {
		return err
	}
	if err := ociimage.WriteLayout(*out, idx, *tag); err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return fmt.Errorf("digest image: %w", err)
	}
	fmt.Fprintf(stdout, "image %s: %s\n", *tag, digest)
	if *push == "" {
		return nil
	}
	for _, t := range []string{*tag, "latest"} {
		ref, err := name.NewTag(*push + ":" + t)
		if err != nil {
			return usageError{fmt.Errorf("--push: %w", err)}
		}
		if err := remote.WriteIndex(ref, idx, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return fmt.Errorf("push image %s: %w", ref, err)
		}
		fmt.Fprintf(stdout, "pushed %s@%s\n", ref, digest)
	}
	return nil
}

// linuxBinaries reads goreleaser's artifacts.json for the remediator's Linux binaries
// (their paths are relative to the project's root, where goreleaser ran).
func linuxBinaries(artifacts string) (map[string]string, error) {
	raw, err := os.ReadFile(artifacts)
	if err != nil {
		return nil, fmt.Errorf("read goreleaser artifacts: %w", err)
	}
	var list []struct {
		Name, Path, Type, Goos, Goarch, Goarm string
		Extra                                 struct{ ID string }
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("read goreleaser artifacts %s: %w", artifacts, err)
	}
	out := map[string]string{}
	for _, a := range list {
		if a.Type != "Binary" || a.Extra.ID != "remediator" || a.Goos != "linux" {
			continue
		}
		platform := a.Goos + "/" + a.Goarch
		if a.Goarm != "" {
			platform += "/v" + a.Goarm
		}
		out[platform] = a.Path
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read goreleaser artifacts %s: no Linux remediator binary", artifacts)
	}
	return out, nil
}
