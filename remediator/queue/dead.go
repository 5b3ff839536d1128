package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
)

// Dead-letter and retry directories, inside the queue directory. An anomaly given up
// on is kept in dead/ with its error; `remediator queue retry` moves it to retry/,
// which the serving process (the one writer of the log) takes back into the queue.
const (
	deadDir  = "dead"
	retryDir = "retry"
)

// Dead is an anomaly given up on, with why.
type Dead struct {
	Item  Item      `json:"item"`
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// DeadLetter gives up on a pending anomaly: it is written (fsynced) to dead/ with the
// error, then removed from the queue.
func (q *Queue) DeadLetter(id, reason string) error {
	q.mu.Lock()
	at := q.find(id)
	var it Item
	if at >= 0 {
		it = q.pending[at]
	}
	q.mu.Unlock()
	if at < 0 {
		return fmt.Errorf("queue: no pending anomaly %s", id)
	}
	data, err := json.Marshal(Dead{Item: it, Error: reason, At: q.now().UTC()})
	if err != nil {
		return fmt.Errorf("queue: dead-letter %s: %w", id, err)
	}
	dir := filepath.Join(q.dir, deadDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("queue: dead-letter %s: %w", id, err)
	}
	final := filepath.Join(dir, id+".json")
	_ = os.Remove(final + ".tmp") // left by a crash during an earlier attempt
	if err := writeSync(final+".tmp", data); err != nil {
		_ = os.Remove(final + ".tmp")
		return fmt.Errorf("queue: dead-letter %s: %w", id, err)
	}
	if err := os.Rename(final+".tmp", final); err != nil {
		return fmt.Errorf("queue: dead-letter %s: %w", id, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("queue: dead-letter %s: %w", id, err)
	}
	return q.Done(id)
}

// ListDead lists the dead letters of a queue directory, oldest first.
func ListDead(queueDir string) ([]Dead, error) {
	files, _ := filepath.Glob(filepath.Join(queueDir, deadDir, "*.json"))
	sort.Strings(files)
	out := make([]Dead, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var d Dead
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// RetryDead hands a dead letter back to the queue: the serving process (or the next to
// start) queues it again with its attempts reset.
func RetryDead(queueDir, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(queueDir, retryDir), 0o750); err != nil {
		return err
	}
	err := os.Rename(filepath.Join(queueDir, deadDir, id+".json"), filepath.Join(queueDir, retryDir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no dead letter %s", id)
	}
	return err
}

// DropDead deletes a dead letter for good.
func DropDead(queueDir, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(queueDir, deadDir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no dead letter %s", id)
	}
	return err
}

// checkID refuses an id that could name a file elsewhere.
func checkID(id string) error {
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return fmt.Errorf("%q is not a queue id", id)
	}
	return nil
}

// TakeRetries queues again the dead letters handed back by RetryDead.
func (q *Queue) TakeRetries() (int, error) {
	files, _ := filepath.Glob(filepath.Join(q.dir, retryDir, "*.json"))
	sort.Strings(files)
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return n, err
		}
		var d Dead
		if err := json.Unmarshal(data, &d); err != nil {
			_ = os.Rename(f, f+".corrupt")
			continue
		}
		if _, err := q.Put([]intake.Anomaly{d.Item.Anomaly}); err != nil {
			return n, err
		}
		if err := os.Remove(f); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func writeSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// List reads the pending anomalies of a queue directory without changing anything:
// for `remediator queue list` beside a running serve, which owns the log.
func List(queueDir string) ([]Item, error) {
	segs, _ := filepath.Glob(filepath.Join(queueDir, "seg-*.log"))
	sort.Strings(segs)
	var out []Item
	for _, s := range segs {
		data, err := os.ReadFile(s)
		if errors.Is(err, os.ErrNotExist) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, err
		}
		done, failed, err := readDone(filepath.Join(queueDir, doneName(filepath.Base(s))))
		if err != nil {
			return nil, err
		}
		for _, b := range readRecords(data) {
			for i, a := range b.Anomalies {
				if id := itemID(b.ID, i); !done[id] {
					out = append(out, Item{ID: id, Queued: b.Queued, Anomaly: a, Attempts: failed[id]})
				}
			}
		}
	}
	return out, nil
}
