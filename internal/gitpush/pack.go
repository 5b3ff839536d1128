package gitpush

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1" //nolint:gosec // a pack's trailer is SHA-1 by format, a checksum, not a signature
	"encoding/binary"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
)

// A proposal changes one file in a directory that may hold 10,000: the new directory
// tree is half a megabyte that differs from the old in one entry. go-git's pack
// encoder sends it whole, deflated at zlib's default level, which was a third of a
// proposal's time. This writer sends such an object as a delta against the object it
// replaces, which the remote has (a thin pack, as git push sends: receive-pack
// completes it), and deflates at zlib's best speed: what it sends is small.

// packObject is an object to send and, when not zero, the object it replaces on the
// remote, to send it as a delta against. A tree's content, and its base's, are those
// the walk that listed it read (raw), so the pack does not read them again; nil
// means read it from the store.
type packObject struct {
	hash, base   plumbing.Hash
	raw, baseRaw []byte
}

// Git's pack object types (gitformat-pack).
const (
	packRefDelta = 7
	maxCopy      = 0x10000 // the longest copy git's own delta writer emits
	maxInsert    = 0x7f
)

// writePack writes a version 2 pack of the objects, reading them from s.
func writePack(w io.Writer, s storer.EncodedObjectStorer, objs []packObject) error {
	sum := sha1.New() //nolint:gosec // see the import
	out := io.MultiWriter(w, sum)
	var hdr [12]byte
	copy(hdr[:], "PACK")
	binary.BigEndian.PutUint32(hdr[4:], 2)
	binary.BigEndian.PutUint32(hdr[8:], uint32(len(objs))) //nolint:gosec // a commit's new objects, far below 2^32
	if _, err := out.Write(hdr[:]); err != nil {
		return err
	}
	zw, err := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := writeObject(out, zw, s, o); err != nil {
			return fmt.Errorf("pack %s: %w", o.hash, err)
		}
	}
	_, err = w.Write(sum.Sum(nil))
	return err
}

// writeObject writes one pack entry: the object whole, or a delta against its base
// when that is less than half its size.
func writeObject(out io.Writer, zw *zlib.Writer, s storer.EncodedObjectStorer, o packObject) error {
	objType, data := plumbing.TreeObject, o.raw
	if data == nil {
		obj, err := s.EncodedObject(plumbing.AnyObject, o.hash)
		if err != nil {
			return err
		}
		if data, err = gittree.ReadObject(obj); err != nil {
			return err
		}
		objType = obj.Type()
	}
	typ, body := int(objType), data
	if !o.base.IsZero() {
		base := o.baseRaw
		if base == nil {
			var err error
			if base, err = gittree.Contents(s, objType, o.base); err != nil {
				return fmt.Errorf("delta base: %w", err)
			}
		}
		// An empty base has nothing to copy (and go-git refuses it as a base).
		if d := spanDelta(base, data); len(base) > 0 && len(d) < len(data)/2 {
			typ, body = packRefDelta, d
		}
	}
	if _, err := out.Write(entryHeader(typ, len(body))); err != nil {
		return err
	}
	if typ == packRefDelta {
		if _, err := out.Write(o.base[:]); err != nil {
			return err
		}
	}
	zw.Reset(out)
	if _, err := zw.Write(body); err != nil {
		return err
	}
	return zw.Close()
}

// entryHeader is a pack entry's type and size: 3 bits of type and 4 of size, then 7
// bits of size per byte, the high bit saying more follow.
func entryHeader(typ, size int) []byte {
	b := byte(typ<<4) | byte(size&0x0f)
	size >>= 4
	var out []byte
	for size > 0 {
		out = append(out, b|0x80)
		b = byte(size & 0x7f)
		size >>= 7
	}
	return append(out, b)
}

// spanDelta is a Git delta that makes target from base by copying their common
// prefix and suffix and inserting what lies between: for a tree that differs from its
// base in one place, as a proposal's do, that is all there is to send.
func spanDelta(base, target []byte) []byte {
	limit := min(len(base), len(target))
	pre := 0
	for pre < limit && base[pre] == target[pre] {
		pre++
	}
	suf := 0
	for suf < limit-pre && base[len(base)-1-suf] == target[len(target)-1-suf] {
		suf++
	}
	d := binary.AppendUvarint(nil, uint64(len(base)))
	d = binary.AppendUvarint(d, uint64(len(target)))
	d = appendCopy(d, 0, pre)
	for mid := target[pre : len(target)-suf]; len(mid) > 0; {
		n := min(len(mid), maxInsert)
		d = append(d, byte(n))
		d = append(d, mid[:n]...)
		mid = mid[n:]
	}
	return appendCopy(d, len(base)-suf, suf)
}

// appendCopy appends copy instructions for base[off:off+n], at most maxCopy each: a
// command byte whose low bits say which offset and size bytes follow, then those
// bytes, least significant first, zero bytes left out.
func appendCopy(d []byte, off, n int) []byte {
	for n > 0 {
		size := min(n, maxCopy)
		cmd := byte(0x80)
		var args []byte
		for i := 0; i < 4; i++ {
			if b := byte(off >> (8 * i)); b != 0 {
				cmd |= 1 << i
				args = append(args, b)
			}
		}
		for i := 0; i < 3; i++ {
			if b := byte(size >> (8 * i)); b != 0 {
				cmd |= 0x10 << i
				args = append(args, b)
			}
		}
		d = append(append(d, cmd), args...)
		off += size
		n -= size
	}
	return d
}

// packBytes writes the pack of objs into memory, for a push request.
func packBytes(s storer.EncodedObjectStorer, objs []packObject) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	if err := writePack(&buf, s, objs); err != nil {
		return nil, err
	}
	return &buf, nil
}
