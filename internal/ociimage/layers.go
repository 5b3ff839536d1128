package ociimage

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"
)

// nonroot is the user the image runs as, distroless's: the Kubernetes manifests'
// runAsUser and fsGroup.
const nonroot = 65532

const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group  = "root:x:0:\nnonroot:x:65532:\n"
)

// entry is one file or directory of a layer.
type entry struct {
	name     string
	mode     int64
	uid      int
	contents []byte // nil for a directory
}

// baseEntries are what a static binary needs around it: the users, the CA
// certificates (https to the forge and Git), the time zones (maintenance windows are
// in named zones), a /tmp and the state directory writable by nonroot.
func baseEntries(caCerts, zoneinfoZip string) ([]entry, error) {
	certs, err := os.ReadFile(caCerts)
	if err != nil {
		return nil, fmt.Errorf("read CA certificates: %w", err)
	}
	if !bytes.Contains(certs, []byte("BEGIN CERTIFICATE")) {
		return nil, fmt.Errorf("read CA certificates: %s holds no PEM certificate", caCerts)
	}
	zones, err := zoneEntries(zoneinfoZip)
	if err != nil {
		return nil, err
	}
	entries := []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/passwd", mode: 0o644, contents: []byte(passwd)},
		{name: "etc/group", mode: 0o644, contents: []byte(group)},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, contents: certs},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: nonroot},
		{name: "tmp/", mode: 0o1777},
		{name: "var/", mode: 0o755},
		{name: "var/lib/", mode: 0o755},
		{name: "var/lib/remediator/", mode: 0o700, uid: nonroot},
	}
	return append(entries, zones...), nil
}

// zoneEntries unpacks Go's time zone database (GOROOT/lib/time/zoneinfo.zip) into
// /usr/share/zoneinfo, where Go (and anything else) looks first.
func zoneEntries(zoneinfoZip string) ([]entry, error) {
	zr, err := zip.OpenReader(zoneinfoZip)
	if err != nil {
		return nil, fmt.Errorf("read time zones: %w", err)
	}
	defer zr.Close()
	dirs := map[string]bool{"usr/": true, "usr/share/": true, "usr/share/zoneinfo/": true}
	var files []entry
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		name := path.Join("usr/share/zoneinfo", path.Clean("/" + f.Name)[1:])
		for d := path.Dir(name); d != "usr/share/zoneinfo"; d = path.Dir(d) {
			dirs[d+"/"] = true
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("read time zone %s: %w", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read time zone %s: %w", f.Name, err)
		}
		files = append(files, entry{name: name, mode: 0o644, contents: b})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("read time zones: %s holds none", zoneinfoZip)
	}
	out := make([]entry, 0, len(dirs)+len(files))
	for d := range dirs {
		out = append(out, entry{name: d, mode: 0o755})
	}
	return append(out, files...), nil
}

// tarOf writes the entries as a tar stream, sorted (parents first) and stamped with
// one time, so the same inputs make the same layer digest.
func tarOf(entries []entry, mtime time.Time) ([]byte, error) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: mtime, Format: tar.FormatPAX}
		if e.contents == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.contents))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("write layer: %w", err)
		}
		if _, err := tw.Write(e.contents); err != nil {
			return nil, fmt.Errorf("write layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("write layer: %w", err)
	}
	return buf.Bytes(), nil
}
