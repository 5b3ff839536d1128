package gitlab

import (
	"context"
	"slices"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// GitLab counts every request against its rate limit, a 304 as much as a 200: its
// REST API answers conditional requests only through Rails' Rack::ETag and
// Rack::ConditionalGet, after the endpoint ran, and its throttles count the request
// before it does. Conditional requests save bytes there, never budget; what saves
// budget is not asking. So the forge keeps, between passes:
//   - the remediator's open merge requests with GitLab's updated_at of each, read
//     whole once and then only those GitLab updated since (updated_after, ordered by
//     updated_at): one request a pass however many are open;
//   - what it read of each (approvals and reviewers, pushers, state events), keyed by
//     that updated_at. GitLab touches a merge request on every push (a new version),
//     approval, unapproval, request for changes, note, retarget, close and reopen, so
//     while updated_at stands still none of these changed and nothing is read again.
//
// What it keeps never stands in for GitLab's word on a merge: a merge request whose
// kept approvals name its head is read whole on every pass, the merge reads the merge
// request and the reviewers' requests for changes again first, and access levels and
// checks are never kept.
type memory struct {
	// syncMu makes one read of the merge requests at a time.
	syncMu sync.Mutex

	mu       sync.Mutex
	synced   time.Time // when the open merge requests were last read whole
	newest   time.Time // the newest updated_at read, where the next read starts
	open     map[int]*keptMR
	disabled bool // tests' naive peer: nothing kept, everything read every time
}

// keptMR is one open merge request as last listed, and what was read of it.
type keptMR struct {
	p        forge.Proposal
	updated  time.Time
	reviews  *kept[[]forge.Review]
	pushers  *kept[[]string]
	timeline *kept[[]forge.Event]
}

// kept is a value read while the merge request's updated_at was at.
type kept[T any] struct {
	at time.Time
	v  T
}

// syncOverlap is how far before the newest updated_at read the next read starts:
// GitLab dates a change when it is made, not when its transaction commits, so a
// change committed after a read but dated just before its newest would be missed.
const syncOverlap = time.Minute

// resyncEvery bounds how long the forge trusts the incremental reads alone.
const resyncEvery = time.Hour

func newMemory() *memory { return &memory{open: map[int]*keptMR{}} }

// OpenProposals lists the remediator's open merge requests, newest first: what a
// reconcile pass works on. After the first read, one request asks GitLab for those
// updated since (closed and merged ones among them, which leave the list).
func (f *Forge) OpenProposals(ctx context.Context) ([]forge.Proposal, error) {
	if _, err := f.projectIDOf(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	refusal := f.mergeMethodRefusal(f.mergeMethod)
	f.mu.Unlock()
	if refusal != nil {
		return nil, refusal
	}
	f.checkCommitterSetting(ctx)
	m := f.known
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	m.mu.Lock()
	// With nothing read yet, the next read is whole too: an empty list (one
	// request) rather than every merge request the remediator ever opened.
	whole := m.disabled || m.synced.IsZero() || m.newest.IsZero() || f.now().Sub(m.synced) >= resyncEvery
	since := m.newest.Add(-syncOverlap)
	m.mu.Unlock()
	o := &gl.ListProjectMergeRequestsOptions{OrderBy: gl.Ptr("updated_at"), Sort: gl.Ptr("desc")}
	if whole {
		o.State = gl.Ptr("opened")
	} else {
		o.State, o.UpdatedAfter = gl.Ptr("all"), &since
	}
	type listed struct {
		p       forge.Proposal
		updated time.Time
	}
	var got []listed
	if err := f.listEach(ctx, o, func(p forge.Proposal, u time.Time) { got = append(got, listed{p, u}) }); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if whole {
		old := m.open
		m.open, m.synced = map[int]*keptMR{}, f.now()
		for _, l := range got {
			if k := old[l.p.Number]; k != nil {
				m.open[l.p.Number] = k
			}
		}
	}
	for _, l := range got {
		m.newest = maxTime(m.newest, l.updated)
		if l.p.State != forge.Open {
			delete(m.open, l.p.Number)
			continue
		}
		k := m.open[l.p.Number]
		if k == nil {
			k = &keptMR{}
			m.open[l.p.Number] = k
		}
		k.p, k.updated = l.p, l.updated
	}
	out := make([]forge.Proposal, 0, len(m.open))
	for _, k := range m.open {
		out = append(out, k.p)
	}
	slices.SortFunc(out, func(a, b forge.Proposal) int { return b.Number - a.Number })
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// entry is the kept merge request number when what was read of it may be served:
// GitLab's updated_at of it has not moved since, and none of its kept approvals
// names its head (a merge request that may merge is read whole).
func (m *memory) entry(number int) *keptMR {
	k := m.open[number]
	if m.disabled || k == nil || k.updated.IsZero() {
		return nil
	}
	if k.reviews != nil && k.reviews.at.Equal(k.updated) && approvesHead(k.reviews.v, k.p.Head) {
		return nil
	}
	return k
}

func approvesHead(rs []forge.Review, head string) bool {
	return slices.ContainsFunc(rs, func(r forge.Review) bool { return r.State == "APPROVED" && r.CommitID == head })
}

// recall returns what get keeps of number when it was read at GitLab's current
// updated_at of it.
func recall[T any](m *memory, number int, get func(*keptMR) *kept[T]) (T, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var zero T
	k := m.entry(number)
	if k == nil {
		return zero, false
	}
	if v := get(k); v != nil && v.at.Equal(k.updated) {
		return v.v, true
	}
	return zero, false
}

// remember keeps v, read of number while GitLab's updated_at of it was at.
func remember[T any](m *memory, number int, at *time.Time, v T, set func(*keptMR, *kept[T])) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.open[number]
	if m.disabled || k == nil || at == nil {
		return
	}
	set(k, &kept[T]{at: *at, v: v})
}

// saw moves the kept merge request's updated_at on to one a read of it found newer.
func (m *memory) saw(number int, updated *time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := m.open[number]; k != nil && updated != nil && updated.After(k.updated) {
		k.updated = *updated
	}
}

// updatedOf is GitLab's updated_at of number as last known, nil when not kept.
func (m *memory) updatedOf(number int) *time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := m.open[number]; k != nil && !k.updated.IsZero() {
		at := k.updated
		return &at
	}
	return nil
}

// forget drops what was read of number: the next read asks GitLab.
func (m *memory) forget(number int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := m.open[number]; k != nil {
		k.reviews, k.pushers, k.timeline = nil, nil, nil
	}
}
