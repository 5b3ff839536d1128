package github

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/forge"
)

// memory is what the forge keeps between calls, all of it things that cannot
// change or whose change GitHub would tell (a list is always asked again,
// conditionally): the pushers of a head commit (a commit's author and committer
// never change), the head each open pull request had in the last pass, and the
// remediator's pull requests in every state with their updated_at, read once and then
// only those updated since (what a pass works on, the limits are counted from and a
// branch is looked up in).
type memory struct {
	mu      sync.Mutex
	heads   map[int]string      // pull request number -> head in the last pass
	pushers map[string][]string // head commit -> pushers of the commits up to it
	updated map[int]time.Time   // pull request number -> updated_at as last read
	reviews map[int]keptReviews
	// props are the remediator's pull requests, open and closed, as last read.
	props map[int]forge.Proposal
	// synced: every pull request was read once; newest is the latest updated_at
	// read, where the next read stops.
	synced bool
	newest time.Time
	// syncMu makes one read of the pull requests at a time: two at once would
	// each pay for the same changed page.
	syncMu sync.Mutex
}

func newMemory() *memory {
	return &memory{heads: map[int]string{}, pushers: map[string][]string{}, updated: map[int]time.Time{},
		reviews: map[int]keptReviews{}, props: map[int]forge.Proposal{}}
}

// OpenProposals lists the remediator's open pull requests, newest first: what a
// reconcile pass works on. They come from the pull requests read once and then only
// those updated since (syncProposals): one conditional request however many are
// open, where the open list would be read again page by page after every opening
// (each of its pages embeds the repository's open count). The heads and updated_at
// read are remembered for Pushers and Reviews; what was kept of pull requests no
// longer open is forgotten (memory stays bounded by the open pull requests).
func (f *Forge) OpenProposals(ctx context.Context) ([]forge.Proposal, error) {
	props, err := f.syncProposals(ctx)
	if err != nil {
		return nil, err
	}
	var open []forge.Proposal
	for _, p := range props {
		if p.State == forge.Open {
			open = append(open, p)
		}
	}
	slices.SortFunc(open, func(a, b forge.Proposal) int { return b.Number - a.Number })
	m := f.known
	m.mu.Lock()
	defer m.mu.Unlock()
	m.heads = make(map[int]string, len(open))
	live := map[string]bool{}
	for _, p := range open {
		m.heads[p.Number] = p.Head
		live[p.Head] = true
	}
	for sha := range m.pushers {
		if !live[sha] {
			delete(m.pushers, sha)
		}
	}
	for n := range m.reviews {
		if _, isOpen := m.heads[n]; !isOpen {
			delete(m.reviews, n)
		}
	}
	return open, nil
}

// syncProposals brings the remediator's pull requests, in every state, up to date
// and returns them: the first time every pull request is read (newest updated
// first), after that only those updated since the newest read. GitHub moves a pull
// request's updated_at when it is opened, closed, merged, reopened, pushed to,
// relabelled or edited, so one conditional request sees every such change since:
// a 304 when there was none, one counted page when there were fewer than 100,
// however many pull requests are open. A proposal another process opened since is
// read, so the limits counted from these hold for it.
func (f *Forge) syncProposals(ctx context.Context) ([]forge.Proposal, error) {
	m := f.known
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	m.mu.Lock()
	f.loadRecord(m)
	synced, newest := m.synced, m.newest
	m.mu.Unlock()
	opts := &gh.PullRequestListOptions{State: "all", Sort: "updated", Direction: "desc", ListOptions: gh.ListOptions{PerPage: 100}}
	read := map[int]forge.Proposal{}
	updatedOf := map[int]time.Time{}
	latest := newest
pages:
	for {
		prs, resp, err := f.client.PullRequests.List(ctx, f.owner, f.repo, opts)
		if err != nil {
			return nil, fmt.Errorf("github: list pull requests: %w", err)
		}
		for _, pr := range prs {
			updated := pr.GetUpdatedAt().Time
			if synced && updated.Before(newest) {
				break pages // updated before the last read: known already
			}
			if updated.After(latest) {
				latest = updated
			}
			ours, err := f.ours(ctx, pr)
			if err != nil {
				return nil, err
			}
			if _, seen := read[pr.GetNumber()]; seen {
				continue // read again on a later page, shifted there by an update: the first read is the newer
			}
			if p, ok := proposal(pr); ok && ours {
				if p.State != forge.Open {
					p.Body = "" // only an open proposal's body is compared
				}
				read[p.Number] = p
				updatedOf[p.Number] = updated
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for n, p := range read {
		m.props[n] = p
		m.updated[n] = updatedOf[n]
	}
	changed := !m.synced || len(read) > 0 || !latest.Equal(m.newest)
	m.synced, m.newest = true, latest
	if changed {
		f.saveRecord(m)
	}
	out := make([]forge.Proposal, 0, len(m.props))
	for _, p := range m.props {
		out = append(out, p)
	}
	return out, nil
}

// newestOf is the proposal of a branch created last.
func newestOf(props []forge.Proposal, branch string) (forge.Proposal, bool) {
	var best forge.Proposal
	found := false
	for _, p := range props {
		if p.Branch == branch && (!found || p.Created.After(best.Created) || p.Created.Equal(best.Created) && p.Number > best.Number) {
			best, found = p, true
		}
	}
	return best, found
}

// cachedPushers are the pushers of the head the last pass gave the pull request,
// when known.
func (f *Forge) cachedPushers(number int) (head string, pushers []string, ok bool) {
	m := f.known
	m.mu.Lock()
	defer m.mu.Unlock()
	head = m.heads[number]
	pushers, ok = m.pushers[head]
	return head, pushers, ok && head != ""
}

// keepPushers remembers the pushers of a head, when the commits read end at it: a
// head that moved between the list and the read is not what was read.
func (f *Forge) keepPushers(head, last string, pushers []string) {
	if head == "" || !strings.EqualFold(head, last) {
		return
	}
	m := f.known
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pushers[head] = pushers // pruned by the next pass: bounded by the open heads
}

// keptReviews are a pull request's reviews as read when the pull requests read said
// it was last updated at updated; date is when GitHub answered.
type keptReviews struct {
	updated, date time.Time
	head          string
	reviews       []forge.Review
}

// cachedReviews are the reviews read before, when nothing can have changed since
// and nothing in them could let the pull request merge. GitHub moves a pull
// request's updated_at with every review, dismissal, comment and push: the same
// updated_at, stamped (to the second) before the reviews were read, means none came
// since. Reviews holding an approval of the head are always read again (a
// conditional request), so what a merge is decided on is never older than the pass.
func (f *Forge) cachedReviews(number int) ([]forge.Review, bool) {
	m := f.known
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.reviews[number]
	if !ok || m.heads[number] != k.head || !m.updated[number].Equal(k.updated) || !k.date.After(k.updated) {
		return nil, false
	}
	for _, r := range k.reviews {
		if r.State == "APPROVED" && strings.EqualFold(r.CommitID, k.head) {
			return nil, false
		}
	}
	return k.reviews, true
}

// keepReviews remembers the reviews read, with the pull request's updated_at and
// head as read before them and the time of GitHub's answer.
func (f *Forge) keepReviews(number int, reviews []forge.Review, resp *gh.Response) {
	if resp == nil {
		return
	}
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return
	}
	m := f.known
	m.mu.Lock()
	defer m.mu.Unlock()
	updated, ok := m.updated[number]
	if !ok {
		return
	}
	m.reviews[number] = keptReviews{updated: updated, date: date, head: m.heads[number], reviews: reviews}
}
