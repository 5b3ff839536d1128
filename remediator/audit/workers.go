package audit

import (
	"sort"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// treeWorkers compare the artifact trees of the walk's batches in parallel, one
// worker per repository handle (go-git handles are not safe for concurrent use).
// Results are put back in walk order, so the findings are the same however many
// workers there are.
type treeWorkers struct {
	batches chan treeBatch
	mu      sync.Mutex
	results []batchResult
	errs    []error
	wg      sync.WaitGroup
	seq     int
}

type treeBatch struct {
	seq  int
	jobs []treeJob
}

type batchResult struct {
	seq      int
	findings []Finding
	arts     map[plumbing.Hash]artifactRead
}

func startTreeWorkers(handles []*git.Repository) *treeWorkers {
	w := &treeWorkers{batches: make(chan treeBatch, 16)}
	for _, r := range handles {
		w.wg.Add(1)
		go w.run(r)
	}
	return w
}

func (w *treeWorkers) run(repo *git.Repository) {
	defer w.wg.Done()
	dirs := &artifactDirs{repo: repo}
	roots := &rootTrees{repo: repo}
	failed := false
	for b := range w.batches {
		if failed {
			continue // drain, so the walk never blocks
		}
		res := batchResult{seq: b.seq, arts: map[plumbing.Hash]artifactRead{}}
		err := compareTrees(repo, dirs, roots, b.jobs, &res)
		w.mu.Lock()
		if err != nil {
			w.errs = append(w.errs, err)
			failed = true
		} else {
			w.results = append(w.results, res)
		}
		w.mu.Unlock()
	}
}

func (w *treeWorkers) send(jobs []treeJob) {
	w.batches <- treeBatch{seq: w.seq, jobs: jobs}
	w.seq++
}

// wait ends the input and gathers the results in walk order.
func (w *treeWorkers) wait() ([]Finding, map[plumbing.Hash]artifactRead, error) {
	close(w.batches)
	w.wg.Wait()
	if len(w.errs) > 0 {
		return nil, nil, w.errs[0]
	}
	sort.Slice(w.results, func(i, j int) bool { return w.results[i].seq < w.results[j].seq })
	var findings []Finding
	arts := map[plumbing.Hash]artifactRead{}
	for _, r := range w.results {
		findings = append(findings, r.findings...)
		for k, v := range r.arts {
			arts[k] = v
		}
	}
	return findings, arts, nil
}
