package gittree

import (
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Loose is an object store that writes new objects loose into a repository's objects
// directory, deflated at zlib's best speed, and reads through the store it wraps.
// go-git writes at zlib's default level, with no way to ask for another: for the
// half-megabyte tree of a directory of 10,000 files that a one-file proposal
// rewrites, that was a third of the proposal's time. Git reads loose objects of any
// level.
type Loose struct {
	storer.EncodedObjectStorer
	// ObjectsDir is the repository's objects directory (.git/objects, or objects in a
	// bare repository).
	ObjectsDir string
	// deflaters keeps zlib writers for reuse (NewLoose): a new one allocates about a
	// megabyte of compressor state, more than the work of deflating a small object,
	// and its clearing and collection were half of a catalog round's time.
	deflaters *sync.Pool
}

// NewLoose returns a Loose over s writing into objectsDir, which reuses its zlib
// writers; use it rather than a Loose literal wherever objects are written in
// numbers.
func NewLoose(s storer.EncodedObjectStorer, objectsDir string) Loose {
	return Loose{EncodedObjectStorer: s, ObjectsDir: objectsDir, deflaters: &sync.Pool{}}
}

// SetEncodedObject writes o as a loose object, unless it is there already (then it
// renews the object's time).
func (l Loose) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	if o.Type() == plumbing.OFSDeltaObject || o.Type() == plumbing.REFDeltaObject {
		return plumbing.ZeroHash, plumbing.ErrInvalidType
	}
	h := o.Hash()
	hex := h.String()
	dir := filepath.Join(l.ObjectsDir, hex[:2])
	path := filepath.Join(dir, hex[2:])
	if _, err := os.Stat(path); err == nil {
		// There already: renew its time, as git's object writer does. A git prune
		// racing this write deletes unreachable objects older than its expiry, and
		// would otherwise delete an old one a ref is about to name. The wall clock,
		// which prune compares with; a failure (another owner's file) leaves it be.
		now := time.Now()
		_ = os.Chtimes(path, now, now)
		return h, nil
	}
	tmp, err := createTemp(dir)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write object %s: %w", hex, err)
	}
	err = l.writeLoose(tmp, o)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Rename is atomic: a reader sees the whole object or none.
		if err = os.Rename(tmp.Name(), path); err != nil && exists(path) {
			// Another writer stored the same object first (on Windows a rename
			// does not replace a read-only file): it is there, which is all that
			// was asked, as git's own object writer decides.
			_ = os.Remove(tmp.Name())
			return h, nil
		}
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return plumbing.ZeroHash, fmt.Errorf("write object %s: %w", hex, err)
	}
	return h, nil
}

// createTemp creates a new file for an object in its fan-out directory, read-only
// (the descriptor still writes), as git does: beside the object it becomes, and
// without a chmod before the rename. The directory is made when missing.
func createTemp(dir string) (*os.File, error) {
	for tries := 0; ; tries++ {
		name := filepath.Join(dir, "tmp_obj_"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444) //nolint:gosec // an object's path inside the repository
		switch {
		case err == nil:
			return f, nil
		case errors.Is(err, fs.ErrNotExist) && tries == 0:
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		case errors.Is(err, fs.ErrExist) && tries < 10:
		default:
			return nil, err
		}
	}
}

// writeLoose deflates "<type> <size>\0<content>" into w.
func (l Loose) writeLoose(w io.Writer, o plumbing.EncodedObject) error {
	zw, err := l.deflater(w)
	if err != nil {
		return err
	}
	if l.deflaters != nil {
		defer l.deflaters.Put(zw)
	}
	hdr := append([]byte(o.Type().String()+" "), strconv.FormatInt(o.Size(), 10)...)
	if _, err := zw.Write(append(hdr, 0)); err != nil {
		return err
	}
	r, err := o.Reader()
	if err != nil {
		return err
	}
	n, err := io.Copy(zw, r)
	r.Close()
	if err != nil {
		return err
	}
	if n != o.Size() {
		return errors.New("object shorter than its size")
	}
	return zw.Close()
}

// deflater returns a zlib writer at best speed into w: a reused one when l keeps them.
func (l Loose) deflater(w io.Writer) (*zlib.Writer, error) {
	if l.deflaters != nil {
		if zw, ok := l.deflaters.Get().(*zlib.Writer); ok {
			zw.Reset(w)
			return zw, nil
		}
	}
	return zlib.NewWriterLevel(w, zlib.BestSpeed)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
