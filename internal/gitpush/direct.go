package gitpush

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
)

// A push to a bare repository on this machine costs about 60 ms on the path of every
// writer waiting for it, four processes in a row: git receive-pack, git unpack-objects
// to store the pack, git rev-list to check that it connects, and the ref update (and
// gc --auto after it, off the path: local.go). The catalog's writers wait for one push
// per Terraform round, so a 200-runbook apply waited 20 of them.
//
// Where receive-pack would do nothing but store the objects and move the ref, Direct
// does those two things in this process, the way git itself does them: each object
// loose (deflated into a temporary file, renamed into place), then the ref by git's
// lock-file protocol (create <ref>.lock exclusively, compare with the expected value,
// write, rename over the ref). A git push, a git pack-refs or another Direct racing it
// takes the same lock, so the update stays a compare-and-swap against every writer.
// The objects go first: a ref never names a commit whose objects are not all there.
//
// "Nothing but": a bare repository, no hook, no hooks path, no repository extension,
// no fsck of received objects, no shared-repository permissions, no reflog (of the
// branch or HEAD), no linked worktree, no hidden refs, no environment that moves refs
// or objects (a namespace, a quarantine), and no receive.* setting beyond those that
// cannot apply to a fast-forward of a branch; and an update git would accept: a valid
// ref name, no clash with a packed ref, a child of the old value only. Anything else,
// and anything unreadable, goes through receive-pack as before. The hooks, worktrees,
// reflogs and the repository's config file are looked at again at every update.

// ErrNotDirect means the repository needs git receive-pack: something there (a hook,
// a setting) would act on a push. The caller pushes through receive-pack instead.
var ErrNotDirect = errors.New("git receive-pack must carry this push")

// directGCEvery is how many direct updates pass between two `git gc --auto` runs
// (receive-pack runs one after every push): it packs the loose objects once there
// are enough of them, as after any push.
const directGCEvery = 16

// Direct updates the refs of a bare repository on this machine in this process.
type Direct struct {
	gitDir  string
	objects gittree.Loose
	autoGC  bool
	// config is the repository's config file as OpenDirect read it: a change to it
	// (a hook path, fsck, a receive.* setting added since) is read again.
	config os.FileInfo

	mu        sync.Mutex
	updates   int
	gcRunning bool
}

// OpenDirect returns a Direct for url, or an error wrapping ErrNotDirect that says why
// the repository's pushes need receive-pack (a URL of another protocol is one reason).
// It reads the repository's effective Git configuration once, with one git process.
func OpenDirect(ctx context.Context, url string) (*Direct, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil || ep.Protocol != "file" {
		return nil, fmt.Errorf("%w: not a repository on this machine", ErrNotDirect)
	}
	dir := ep.Path
	if why := refuseEnv(os.LookupEnv); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrNotDirect, why)
	}
	// A linked worktree's git directory: its refs and objects are in the common one.
	if _, err := os.Lstat(filepath.Join(dir, "commondir")); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has a commondir", ErrNotDirect, dir)
	}
	d := &Direct{gitDir: dir, objects: gittree.NewLoose(nil, filepath.Join(dir, "objects"))}
	if err := d.readConfig(ctx); err != nil {
		return nil, err
	}
	if err := d.noHooks(); err != nil {
		return nil, err
	}
	return d, nil
}

// readConfig reads the repository's effective configuration, failing with
// ErrNotDirect when it needs receive-pack.
func (d *Direct) readConfig(ctx context.Context) error {
	fi, statErr := os.Stat(filepath.Join(d.gitDir, "config")) // before reading: a change after is seen next time
	cfg, err := gitConfig(ctx, d.gitDir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotDirect, err)
	}
	if why := refuseConfig(cfg); why != "" {
		return fmt.Errorf("%w: %s", ErrNotDirect, why)
	}
	if statErr != nil {
		return fmt.Errorf("%w: read the repository's git config: %w", ErrNotDirect, statErr)
	}
	d.config = fi
	d.autoGC = cfg["gc.auto"] != "0" && !isFalse(cfg["receive.autogc"])
	return nil
}

// configChanged reads the configuration again when the repository's config file
// changed since it was last read (git rewrites it by a rename: a new file).
func (d *Direct) configChanged(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	fi, err := os.Stat(filepath.Join(d.gitDir, "config"))
	if err == nil && os.SameFile(fi, d.config) && fi.ModTime().Equal(d.config.ModTime()) && fi.Size() == d.config.Size() {
		return nil
	}
	return d.readConfig(ctx)
}

// gitConfig reads the configuration git receive-pack would see in the repository:
// system, global and the repository's own, includes followed. Keys come lowercased
// (sections and names; subsections keep their case), the last value of a key wins.
func gitConfig(ctx context.Context, dir string) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, "git", "--git-dir="+dir, "config", "--list", "--includes", "-z")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("read the repository's git config: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	cfg := map[string]string{}
	for _, entry := range bytes.Split(out, []byte{0}) {
		if len(entry) == 0 {
			continue
		}
		key, value, _ := strings.Cut(string(entry), "\n")
		cfg[key] = value
	}
	return cfg, nil
}

// redirectEnv are the environment variables that send receive-pack's (and
// upload-pack's) refs or objects somewhere other than the repository's own
// directories, or that forbid ref updates (a quarantine, inside a hook).
var redirectEnv = []string{"GIT_NAMESPACE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_QUARANTINE_PATH"}

// refuseEnv says which of redirectEnv is set ("" when none is).
func refuseEnv(lookup func(string) (string, bool)) string {
	for _, k := range redirectEnv {
		if _, ok := lookup(k); ok {
			return k + " is set"
		}
	}
	return ""
}

// checkRefName fails with ErrNotDirect for a name git check-ref-format refuses, so
// that receive-pack gives git's answer, and no file is written at a path the name
// only cleans to (a/./b is not a/b to git).
func checkRefName(ref plumbing.ReferenceName) error {
	name := ref.String()
	bad := name == "@" || !strings.Contains(name, "/") || strings.HasSuffix(name, ".") ||
		strings.Contains(name, "..") || strings.Contains(name, "@{") ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) })
	for _, c := range strings.Split(name, "/") {
		bad = bad || c == "" || strings.HasPrefix(c, ".") || strings.HasSuffix(c, ".lock")
	}
	if bad {
		return fmt.Errorf("%w: %q is not a valid ref name", ErrNotDirect, name)
	}
	return nil
}

// receiveAllowed are the receive.* settings that change nothing for a direct update:
// it only fast-forwards a branch of a bare repository, never deletes, and runs gc
// --auto as receive-pack would (unless receive.autogc is false).
var receiveAllowed = []string{
	"receive.denycurrentbranch", "receive.denydeletes", "receive.denynonfastforwards",
	"receive.unpacklimit", "receive.keepalive", "receive.autogc",
}

// refuseConfig says why the configuration needs receive-pack ("" when it does not).
func refuseConfig(cfg map[string]string) string {
	if cfg["core.bare"] != "true" {
		return "not a bare repository"
	}
	if v, err := strconv.Atoi(cfg["core.repositoryformatversion"]); err != nil || v > 1 {
		return "repository format version " + cfg["core.repositoryformatversion"]
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := cfg[k]
		switch {
		case strings.HasPrefix(k, "extensions."):
			return k + " is set"
		case strings.HasPrefix(k, "receive.") && !slices.Contains(receiveAllowed, k),
			k == "transfer.hiderefs": // receive-pack refuses to update a hidden ref
			return k + " is set"
		case k == "transfer.fsckobjects" && !isFalse(v),
			k == "core.hookspath", k == "core.sharedrepository", k == "core.fsync",
			k == "core.fsyncobjectfiles" && !isFalse(v),
			k == "core.logallrefupdates" && !isFalse(v):
			return k + " is set"
		}
	}
	return ""
}

func isFalse(v string) bool {
	switch strings.ToLower(v) {
	case "false", "no", "off", "0":
		return true
	}
	return false
}

// noHooks fails with ErrNotDirect when the repository has a hook (any file in hooks/
// but git's samples; on some systems git runs a hook without its executable bit).
func (d *Direct) noHooks() error {
	entries, err := os.ReadDir(filepath.Join(d.gitDir, "hooks"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: read hooks: %w", ErrNotDirect, err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sample") {
			return fmt.Errorf("%w: hook %s", ErrNotDirect, e.Name())
		}
	}
	return nil
}

// noRecord fails with ErrNotDirect when receive-pack would refuse the update or record
// it beyond the ref: a linked worktree (the branch may be checked out there, which
// receive.denyCurrentBranch refuses), or a reflog of the ref or of HEAD (git
// appends to an existing one whatever core.logAllRefUpdates says).
func (d *Direct) noRecord(ref plumbing.ReferenceName) error {
	entries, err := os.ReadDir(filepath.Join(d.gitDir, "worktrees"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: read worktrees: %w", ErrNotDirect, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("%w: linked worktree %s", ErrNotDirect, entries[0].Name())
	}
	// HEAD's too: git logs an update of the branch HEAD names there as well.
	for _, r := range []string{ref.String(), "HEAD"} {
		_, err = os.Lstat(filepath.Join(d.gitDir, "logs", filepath.FromSlash(r)))
		if err == nil {
			return fmt.Errorf("%w: %s has a reflog", ErrNotDirect, r)
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("%w: read the reflog of %s: %w", ErrNotDirect, r, err)
		}
	}
	return nil
}

// Update moves ref from old (zero: absent) to commit, a child of old, storing first
// the objects commit adds to parentTree (old's tree, zero for none). A ref not at
// old fails with ErrStale and changes nothing; a hook that appeared since OpenDirect,
// or a commit that is not a fast-forward of old, with ErrNotDirect.
func (d *Direct) Update(ctx context.Context, s storer.EncodedObjectStorer, commit *object.Commit, parentTree plumbing.Hash,
	ref plumbing.ReferenceName, old plumbing.Hash) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkRefName(ref); err != nil {
		return err
	}
	if err := d.configChanged(ctx); err != nil {
		return err
	}
	if err := d.noHooks(); err != nil {
		return err
	}
	if err := d.noRecord(ref); err != nil {
		return err
	}
	// Only old's objects are known to be there: a parent other than old may be
	// missing, and receive-pack's connectivity check would refuse the push.
	if !old.IsZero() && !slices.Contains(commit.ParentHashes, old) {
		return fmt.Errorf("%w: %s is not a child of %s", ErrNotDirect, short(commit.Hash), short(old))
	}
	for _, p := range commit.ParentHashes {
		if p != old {
			return fmt.Errorf("%w: %s has a parent, %s, other than %s", ErrNotDirect, short(commit.Hash), short(p), short(old))
		}
	}
	if err := checkParentTree(s, old, parentTree); err != nil {
		return err
	}
	objs, err := newObjects(s, commit, parentTree, false)
	if err != nil {
		return err
	}
	for _, o := range objs {
		obj, err := s.EncodedObject(plumbing.AnyObject, o.hash)
		if err != nil {
			return fmt.Errorf("read %s: %w", o.hash, err)
		}
		// An object there already gets a fresh time (gittree.Loose), so a racing
		// prune keeps it for the ref about to name it.
		if _, err := d.objects.SetEncodedObject(obj); err != nil {
			return err
		}
	}
	if err := d.moveRef(ref, old, commit.Hash); err != nil {
		return err
	}
	d.afterUpdate()
	return nil
}

// checkParentTree fails with ErrNotDirect when parentTree is not old's tree: the
// objects written are those the commit adds to parentTree, and the rest must be
// there already, in old's tree.
func checkParentTree(s storer.EncodedObjectStorer, old, parentTree plumbing.Hash) error {
	want := plumbing.ZeroHash
	if !old.IsZero() {
		p, err := object.GetCommit(s, old)
		if err != nil {
			return fmt.Errorf("read %s: %w", short(old), err)
		}
		want = p.TreeHash
	}
	if parentTree != want {
		return fmt.Errorf("%w: %s is not the tree of %s", ErrNotDirect, short(parentTree), short(old))
	}
	return nil
}

// moveRef is git's loose-ref transaction: lock, compare, write, rename.
func (d *Direct) moveRef(ref plumbing.ReferenceName, old, next plumbing.Hash) error {
	p := filepath.Join(d.gitDir, filepath.FromSlash(ref.String()))
	lock := p + ".lock"
	var f *os.File
	var err error
	// git deleting the last ref of a directory removes the directory: made here, it
	// may be gone again before the lock is created, so try again, as git does.
	for tries := 0; tries < 3; tries++ {
		if err = os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("lock %s: %w", ref, err)
		}
		f, err = os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666) //nolint:gosec // the path is the repository's own ref, its name checked by the caller
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s is locked (%s exists): another writer is moving it, or one stopped while it held the lock; "+
			"if no git process is running, delete that file: %w", ref, lock, ErrStale)
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", ref, err)
	}
	err = d.swapLocked(f, p, ref, old, next)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(lock, p)
	}
	if err != nil {
		_ = os.Remove(lock)
	}
	return err
}

// swapLocked, holding the ref's lock, checks that it is at old and writes next into
// the lock file.
func (d *Direct) swapLocked(lock *os.File, p string, ref plumbing.ReferenceName, old, next plumbing.Hash) error {
	current, err := d.readRef(p, ref)
	if err != nil {
		return err
	}
	if current != old {
		return fmt.Errorf("%s is at %s, expected %s: %w", ref, short(current), short(old), ErrStale)
	}
	if _, err := lock.WriteString(next.String() + "\n"); err != nil {
		return fmt.Errorf("write %s: %w", ref, err)
	}
	return nil
}

// readRef reads a ref's value: the loose file, else its line in packed-refs, else
// zero (absent).
func (d *Direct) readRef(p string, ref plumbing.ReferenceName) (plumbing.Hash, error) {
	// A symbolic link is a symbolic ref to git (it moves the target), a directory one
	// git removes when empty or refuses to replace: both are receive-pack's to handle.
	if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() {
		return plumbing.ZeroHash, fmt.Errorf("%w: %s is not a regular file (mode %s)", ErrNotDirect, ref, fi.Mode())
	}
	b, err := os.ReadFile(p) //nolint:gosec // see moveRef
	if err == nil {
		v := strings.TrimSpace(string(b))
		if !plumbing.IsHash(v) {
			return plumbing.ZeroHash, fmt.Errorf("%s holds %q, not a commit: %w", ref, v, ErrNotDirect)
		}
		return plumbing.NewHash(v), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return plumbing.ZeroHash, fmt.Errorf("read %s: %w", ref, err)
	}
	f, err := os.Open(filepath.Join(d.gitDir, "packed-refs"))
	if errors.Is(err, fs.ErrNotExist) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read packed-refs: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		h, name, ok := strings.Cut(sc.Text(), " ")
		if !ok || !plumbing.IsHash(h) {
			continue
		}
		if name == ref.String() {
			return plumbing.NewHash(h), nil
		}
		// A packed a beside a loose a/b (or the reverse) is a repository git cannot
		// write either ref of: git refuses to create it, and so does Direct.
		if strings.HasPrefix(name, ref.String()+"/") || strings.HasPrefix(ref.String(), name+"/") {
			return plumbing.ZeroHash, fmt.Errorf("%w: %s cannot be created beside %s", ErrNotDirect, ref, name)
		}
	}
	if err := sc.Err(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read packed-refs: %w", err)
	}
	return plumbing.ZeroHash, nil
}

// afterUpdate starts `git gc --auto` at the first update and every directGCEvery
// after, in the background and one at a time: it does nothing until there are
// enough loose objects to pack (then it detaches and packs them), as after a push
// through receive-pack.
func (d *Direct) afterUpdate() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.updates++
	// The first update too: a process often makes one (an apply of one change), and
	// counting only to directGCEvery, it would never pack what all of them leave.
	if !d.autoGC || d.gcRunning || (d.updates-1)%directGCEvery != 0 {
		return
	}
	// Not the caller's context: the writer it served has its answer already.
	cmd := exec.CommandContext(context.Background(), "git", "--git-dir="+d.gitDir, "gc", "--auto", "--quiet")
	if cmd.Start() != nil {
		return
	}
	d.gcRunning = true
	go func() {
		_ = cmd.Wait()
		d.mu.Lock()
		d.gcRunning = false
		d.mu.Unlock()
	}()
}
