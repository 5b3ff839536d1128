package catalogstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitauth"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitops-remediation/terraform-provider-remediation/internal/gitpush"
	"github.com/gitops-remediation/terraform-provider-remediation/internal/gittree"
	"github.com/gitops-remediation/terraform-provider-remediation/runbooks"
)

// Batching. Terraform applies up to ten resources at a time (-parallelism), and each
// resource's write returns only once it is pushed: a Terraform round is at most ten
// writes, and the next round's writes arrive only as this one's return. A push costs
// about the same whatever it carries (against a local repository, five git processes
// on the server), so the committer pushes each round once. Right after a push, once
// several writers have been seen at once, it waits until every writer this store has
// seen at once is waiting again (the round is whole: nothing more can arrive until the
// push answers), or, when fewer resources than slots remain or other work holds the
// slots, until twice the time a released writer usually takes to write again has
// passed since the push returned. That time is measured, so the wait scales with the
// machine: on a busy one a round takes longer. It is never more than batchMaxWait. A
// writer that never had company never waits.
const (
	batchAfter   = 250 * time.Millisecond
	batchMaxWait = 2 * time.Second
	batchPoll    = 2 * time.Millisecond
)

// linger is how long after a push returned the committer waits for the rest of the
// round, given how long after a push writes usually arrive. It is not capped by what
// a push costs, even where a push is a file write (gitpush.Direct): every commit stays
// in the catalog's history, which every provider process fetches, so a round is worth
// one commit.
func linger(returnDelay time.Duration) time.Duration {
	return min(2*returnDelay, batchMaxWait)
}

type opMode int

const (
	opPut    opMode = iota // create or replace
	opCreate               // fail with ErrExists when present
	opDelete               // absent already is fine
)

// op is one caller's write, waiting to be committed.
type op struct {
	mode opMode
	kind string
	name string
	data []byte
	done chan Result
}

// Result tells a writer what became of its write once it is pushed (or failed).
type Result struct {
	// Commit is the pushed commit holding the write; for a write that changed nothing
	// it is the branch head that already held it.
	Commit string
	// Changed is false when the catalog already held exactly this content.
	Changed bool
	Err     error
}

// Prepared is a document validated and encoded for the catalog: what a write commits.
// A caller that validates anyway (the provider, to report problems on the resource's
// attributes) prepares once and writes that, instead of paying for both twice.
type Prepared struct {
	kind, name string
	data       []byte
}

// Prepare validates and encodes a document. The problems of an invalid one are its
// runbooks.Errors (errors.As finds them); it can never reach a commit.
func Prepare(doc runbooks.Document) (Prepared, error) {
	what := fmt.Sprintf("%s %q", strings.ToLower(doc.DocumentKind()), doc.DocumentName())
	var errs runbooks.Errors
	switch d := doc.(type) {
	case *runbooks.Runbook:
		errs = d.Validate()
	case *runbooks.Policy:
		errs = d.Validate()
	default:
		return Prepared{}, fmt.Errorf("write %s: not a catalog document (%T)", what, doc)
	}
	if len(errs) > 0 {
		return Prepared{}, fmt.Errorf("write %s: %w", what, errs)
	}
	data, err := runbooks.Encode(doc)
	if err != nil {
		return Prepared{}, fmt.Errorf("write %s: %w", what, err)
	}
	return Prepared{kind: doc.DocumentKind(), name: doc.DocumentName(), data: data}, nil
}

// Put creates or replaces a document; it returns once the change is pushed.
func (s *Store) Put(ctx context.Context, doc runbooks.Document) (Result, error) {
	p, err := Prepare(doc)
	if err != nil {
		return Result{}, err
	}
	return s.PutPrepared(ctx, p)
}

// Create adds a document; it fails with ErrExists if one of that name is already there.
func (s *Store) Create(ctx context.Context, doc runbooks.Document) (Result, error) {
	p, err := Prepare(doc)
	if err != nil {
		return Result{}, err
	}
	return s.CreatePrepared(ctx, p)
}

// PutPrepared is Put of a prepared document.
func (s *Store) PutPrepared(ctx context.Context, p Prepared) (Result, error) {
	return s.writePrepared(ctx, opPut, p)
}

// CreatePrepared is Create of a prepared document.
func (s *Store) CreatePrepared(ctx context.Context, p Prepared) (Result, error) {
	return s.writePrepared(ctx, opCreate, p)
}

// Delete removes a document; deleting an absent document succeeds and changes nothing.
func (s *Store) Delete(ctx context.Context, kind, name string) (Result, error) {
	if err := runbooks.CheckName(name); err != nil {
		return Result{}, fmt.Errorf("delete %s: %w", strings.ToLower(kind), err)
	}
	return s.submit(ctx, &op{mode: opDelete, kind: kind, name: name})
}

func (s *Store) writePrepared(ctx context.Context, mode opMode, p Prepared) (Result, error) {
	if p.data == nil {
		// Only Prepare makes one with content: nothing unchecked is committed.
		return Result{}, fmt.Errorf("write %s %q: the document was not prepared (catalogstore.Prepare)", strings.ToLower(p.kind), p.name)
	}
	return s.submit(ctx, &op{mode: mode, kind: p.kind, name: p.name, data: p.data})
}

// submit queues the write. The first writer to find no commit in progress becomes the
// committer: it commits everything queued so far in one commit and one push, and goes
// on until its own write is done; writes queued meanwhile share the next push.
func (s *Store) submit(ctx context.Context, o *op) (Result, error) {
	o.done = make(chan Result, 1)
	s.mu.Lock()
	s.pending = append(s.pending, o)
	if d := s.opts.Now().Sub(s.lastPush); !s.lastPush.IsZero() && d < batchMaxWait {
		// How long after a push writes arrive, averaged over the last eight or so.
		s.returnDelay = average(s.returnDelay, d)
	}
	s.waiting++
	s.peakWaiting = max(s.peakWaiting, s.waiting)
	lead := !s.flushing
	if lead {
		s.flushing = true
	}
	s.mu.Unlock()
	if lead {
		// The committer's own cancellation must not fail other writers' work.
		go s.flush(context.WithoutCancel(ctx))
	}
	defer func() {
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
	}()
	select {
	case r := <-o.done:
		return r, r.Err
	case <-ctx.Done():
		return Result{}, fmt.Errorf("write %s %q: %w (the write may still be pushed)", strings.ToLower(o.kind), o.name, ctx.Err())
	}
}

func (s *Store) flush(ctx context.Context) {
	for {
		ahead := s.connectAhead(ctx)
		s.gather()
		// Writes that arrive while the session opens join the batch: a lone writer
		// waits for nothing it would not wait for anyway.
		ahead.wait()
		s.mu.Lock()
		batch := s.pending
		s.pending = nil
		if len(batch) == 0 {
			s.flushing = false
			s.mu.Unlock()
			ahead.close()
			return
		}
		s.mu.Unlock()
		s.commitBatch(ctx, batch, ahead)
	}
}

// gathers tells whether the committer is about to wait for the rest of a round: right
// after a push, once several writers have been seen at once.
func (s *Store) gathers() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakWaiting >= 2 && !s.lastPush.IsZero() && s.opts.Now().Sub(s.lastPush) < batchAfter
}

// gather waits, right after a push, for the rest of the round: until every writer
// seen at once is waiting, or the round's time is up. A writer that never had company
// never waits.
func (s *Store) gather() {
	if !s.gathers() {
		return
	}
	s.mu.Lock()
	last, wait := s.lastPush, linger(s.returnDelay)
	s.mu.Unlock()
	for {
		s.mu.Lock()
		whole := len(s.pending) >= s.peakWaiting
		s.mu.Unlock()
		if whole || s.opts.Now().Sub(last) >= wait {
			return
		}
		s.opts.Sleep(batchPoll)
	}
}

// commitBatch applies the batch to the branch head, commits and pushes; when another
// writer pushed first it fetches and re-applies the batch on the new head.
func (s *Store) commitBatch(ctx context.Context, batch []*op, ahead *pendingConn) {
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	defer ahead.close()
	var lastErr error
	for attempt := 0; attempt < s.opts.MaxAttempts; attempt++ {
		if attempt > 0 {
			s.opts.Sleep(jitter(attempt))
		}
		var base plumbing.Hash
		var conn *gitpush.Conn
		var err error
		if attempt == 0 {
			// The session opened while the batch gathered carries the first
			// attempt; later ones connect again.
			conn = ahead.take()
		}
		optimistic := attempt == 0 && s.headKnown
		if optimistic {
			// The branch is most likely still where this store last saw it. If
			// not, the push is refused and the next attempt fetches.
			base = s.knownHead
		} else if base, err = s.fetchLocked(ctx); err != nil {
			conn.Close()
			finish(batch, Result{Err: err})
			return
		}
		commit, results, err := s.apply(base, batch)
		if err != nil || commit.IsZero() {
			conn.Close()
		}
		if err != nil {
			finish(batch, Result{Err: err})
			return
		}
		if commit.IsZero() && optimistic {
			// Nothing to change on a remembered head, which no push has checked:
			// whether the remote holds these documents is what the writers must
			// learn, so fetch and apply again.
			s.headKnown = false
			continue
		}
		if commit.IsZero() { // nothing changed
			for i, o := range batch {
				o.done <- results[i]
			}
			return
		}
		err = s.push(ctx, commit, base, conn)
		s.headKnown = false
		if err == nil {
			s.notePush(commit)
			s.opts.Logger.Debug("catalog pushed", "commit", commit.String(), "writes", len(batch), "attempt", attempt+1)
			for i, o := range batch {
				r := results[i]
				if r.Err == nil && r.Changed {
					r.Commit = commit.String()
				}
				o.done <- r
			}
			return
		}
		if !isRace(err) {
			finish(batch, Result{Err: err})
			return
		}
		lastErr = err
		s.opts.Logger.Debug("catalog push lost a race; re-applying", "attempt", attempt+1, "err", err)
	}
	finish(batch, Result{Err: fmt.Errorf("push catalog: another writer kept winning after %d attempts: %w", s.opts.MaxAttempts, lastErr)})
}

func finish(batch []*op, r Result) {
	for _, o := range batch {
		o.done <- r
	}
}

// apply builds the commit for the batch on base. Each op gets its own result; an op
// that cannot apply (Create of an existing document) fails alone. The returned commit
// is ZeroHash when the batch changes nothing.
func (s *Store) apply(base plumbing.Hash, batch []*op) (plumbing.Hash, []Result, error) {
	ov := &overlay{files: map[string]*[]byte{}}
	var parents []plumbing.Hash
	if !base.IsZero() {
		c, err := s.repo.CommitObject(base)
		if err != nil {
			return plumbing.ZeroHash, nil, fmt.Errorf("read %s: %w", base, err)
		}
		if ov.base, err = c.Tree(); err != nil {
			return plumbing.ZeroHash, nil, fmt.Errorf("read %s: %w", base, err)
		}
		parents = []plumbing.Hash{base}
	}
	results, changes, err := s.stage(ov, base, batch)
	if err != nil || len(changes) == 0 {
		return plumbing.ZeroHash, results, err
	}
	tree, err := s.writeTree(ov)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	h, err := s.writeCommit(tree, parents, changes)
	return h, results, err
}

// overlay is the batch's view of the catalog: what earlier ops of the batch wrote
// (nil: deleted) over the base tree. Only the files the batch touches are read, so
// a write costs the same in a catalog of any size.
type overlay struct {
	base  *object.Tree // nil: an empty repository
	files map[string]*[]byte
}

func (ov *overlay) get(p string) ([]byte, bool, error) {
	if v, ok := ov.files[p]; ok {
		if v == nil {
			return nil, false, nil
		}
		return *v, true, nil
	}
	if ov.base == nil {
		return nil, false, nil
	}
	f, err := ov.base.File(p)
	if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", p, err)
	}
	content, err := f.Contents()
	return []byte(content), true, err
}

// stage applies each op of the batch to the overlay: the result of each, and the
// lines of the commit message (none when nothing changes).
func (s *Store) stage(ov *overlay, base plumbing.Hash, batch []*op) ([]Result, []string, error) {
	results := make([]Result, len(batch))
	var changes []string
	for i, o := range batch {
		p := runbooks.DocumentPath(s.Directory(), o.kind, o.name)
		old, exists, err := ov.get(p)
		if err != nil {
			return nil, nil, err
		}
		if !base.IsZero() {
			results[i].Commit = base.String()
		}
		kind := strings.ToLower(o.kind)
		switch o.mode {
		case opCreate:
			if exists {
				results[i].Err = fmt.Errorf("create %s %q: %w (%s)", kind, o.name, ErrExists, p)
				continue
			}
			fallthrough
		case opPut:
			if exists && bytes.Equal(old, o.data) {
				continue
			}
			data := o.data
			ov.files[p] = &data
			verb := "add"
			if exists {
				verb = "update"
			}
			changes = append(changes, fmt.Sprintf("%s: %s %s", kind, verb, o.name))
		case opDelete:
			if !exists {
				continue
			}
			ov.files[p] = nil
			changes = append(changes, fmt.Sprintf("%s: delete %s", kind, o.name))
		}
		results[i].Changed = true
	}
	return results, changes, nil
}

// writeTree stores the overlay's files and the trees above them, rewriting only the
// trees on the changed paths.
func (s *Store) writeTree(ov *overlay) (plumbing.Hash, error) {
	edits := map[string]*plumbing.Hash{}
	for p, v := range ov.files {
		if v == nil {
			edits[p] = nil
			continue
		}
		h, err := gittree.WriteBlob(s.repo.Storer, *v)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("write blob %s: %w", p, err)
		}
		edits[p] = &h
	}
	var rootTree plumbing.Hash
	if ov.base != nil {
		rootTree = ov.base.Hash
	}
	tree, err := gittree.Edit(s.repo.Storer, rootTree, edits)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("build catalog tree: %w", err)
	}
	if !tree.IsZero() {
		return tree, nil
	}
	// Deleting the last file of the repository: keep a valid, empty tree.
	obj := s.repo.Storer.NewEncodedObject()
	if err := (&object.Tree{}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.repo.Storer.SetEncodedObject(obj)
}

// writeCommit stores the catalog commit of the tree.
func (s *Store) writeCommit(tree plumbing.Hash, parents []plumbing.Hash, changes []string) (plumbing.Hash, error) {
	sig := object.Signature{Name: s.opts.AuthorName, Email: s.opts.AuthorEmail, When: s.opts.Now()}
	commit := &object.Commit{Author: sig, Committer: sig, Message: commitMessage(changes), TreeHash: tree, ParentHashes: parents}
	obj := s.repo.Storer.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode commit: %w", err)
	}
	h, err := s.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("store commit: %w", err)
	}
	return h, nil
}

// commitMessage says what changed: the change itself for one, a count and a list for
// several ("catalog: 3 changes").
func commitMessage(changes []string) string {
	if len(changes) == 1 {
		return changes[0] + "\n"
	}
	sorted := append([]string(nil), changes...)
	sort.Strings(sorted)
	return fmt.Sprintf("catalog: %d changes\n\n- %s\n", len(changes), strings.Join(sorted, "\n- "))
}

// push sends the commit to the branch as a compare-and-swap: it succeeds only if the
// branch is still at base, the commit's parent. Only the objects the commit adds are
// sent, so a push costs the same however long the catalog's history grows. conn is a
// session opened ahead (nil: connect now); push closes it.
func (s *Store) push(ctx context.Context, commit, base plumbing.Hash, conn *gitpush.Conn) error {
	defer conn.Close()
	c, err := s.repo.CommitObject(commit)
	if err != nil {
		return err
	}
	var parentTree plumbing.Hash
	if !base.IsZero() {
		p, err := s.repo.CommitObject(base)
		if err != nil {
			return err
		}
		parentTree = p.TreeHash
	}
	if d := s.direct.Load(); d != nil {
		err := d.Update(ctx, s.repo.Storer, c, parentTree, plumbing.NewBranchReferenceName(s.opts.Branch), base)
		if !errors.Is(err, gitpush.ErrNotDirect) {
			if err != nil {
				return fmt.Errorf("push catalog to %s: %w", gitauth.RedactURL(s.url), err)
			}
			return nil
		}
		// Something in the repository now acts on pushes (a hook): from here on,
		// every push goes through receive-pack.
		s.direct.Store(nil)
		s.opts.Logger.Debug("catalog pushes go through git receive-pack from now on", "reason", err)
	}
	if conn == nil {
		if conn, err = s.remote().Connect(ctx); err != nil {
			return fmt.Errorf("push catalog to %s: %w", gitauth.RedactURL(s.url), err)
		}
	}
	if err := conn.Update(ctx, s.repo.Storer, c, parentTree, plumbing.NewBranchReferenceName(s.opts.Branch), base); err != nil {
		return fmt.Errorf("push catalog to %s: %w", gitauth.RedactURL(s.url), err)
	}
	return nil
}

// isRace tells a push that lost to another writer, worth re-applying, from a failure
// that another attempt would repeat. gitpush classifies the server's answers.
func isRace(err error) bool {
	return errors.Is(err, gitpush.ErrStale)
}
