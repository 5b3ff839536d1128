// Package queue is the durable intake queue: an anomaly accepted over HTTP is on disk,
// fsynced, before the reply, and stays there until it has been handled, so neither a
// crash nor a restart loses it.
package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
)

// Item is one queued anomaly.
type Item struct {
	ID      string         `json:"id"`
	Queued  time.Time      `json:"queued"`
	Anomaly intake.Anomaly `json:"anomaly"`
}

// Queue is a directory of one JSON file per anomaly, named so that lexical order is
// arrival order.
type Queue struct {
	dir string
	now func() time.Time

	mu     sync.Mutex
	seq    uint64
	notify chan struct{}
}

// Open opens (creating) the queue directory; items left by an earlier run are kept.
func Open(dir string, now func() time.Time) (*Queue, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open queue: %w", err)
	}
	// Leftovers of a write interrupted before its rename were never acknowledged.
	tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	for _, t := range tmps {
		_ = os.Remove(t)
	}
	return &Queue{dir: dir, now: now, notify: make(chan struct{}, 1)}, nil
}

// Put stores the anomalies durably: each file is written, fsynced and renamed into
// place, and the directory fsynced, before Put returns.
func (q *Queue) Put(anomalies []intake.Anomaly) ([]string, error) {
	ids := make([]string, 0, len(anomalies))
	for _, a := range anomalies {
		item := Item{ID: q.nextID(), Queued: q.now().UTC(), Anomaly: a}
		data, err := json.Marshal(item)
		if err != nil {
			return ids, err
		}
		final := filepath.Join(q.dir, item.ID+".json")
		tmp := final + ".tmp"
		if err := writeSync(tmp, data); err != nil {
			_ = os.Remove(tmp)
			return ids, fmt.Errorf("queue anomaly: %w", err)
		}
		if err := os.Rename(tmp, final); err != nil {
			_ = os.Remove(tmp)
			return ids, fmt.Errorf("queue anomaly: %w", err)
		}
		ids = append(ids, item.ID)
	}
	if err := syncDir(q.dir); err != nil {
		return ids, fmt.Errorf("queue anomaly: %w", err)
	}
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return ids, nil
}

func (q *Queue) nextID() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	return fmt.Sprintf("%020d-%06d-%d", q.now().UnixNano(), q.seq%1_000_000, os.Getpid())
}

// Pending lists the queued items, oldest first.
func (q *Queue) Pending() ([]Item, error) {
	entries, err := os.ReadDir(q.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	items := make([]Item, 0, len(names))
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(q.dir, n))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var it Item
		if err := json.Unmarshal(data, &it); err != nil {
			// A file we did not write: keep it aside rather than lose or loop on it.
			_ = os.Rename(filepath.Join(q.dir, n), filepath.Join(q.dir, n+".corrupt"))
			continue
		}
		items = append(items, it)
	}
	return items, nil
}

// Len is the number of queued items.
func (q *Queue) Len() int {
	items, _ := filepath.Glob(filepath.Join(q.dir, "*.json"))
	return len(items)
}

// Done removes a handled item.
func (q *Queue) Done(id string) error {
	err := os.Remove(filepath.Join(q.dir, id+".json"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Wait returns a channel that receives after a Put.
func (q *Queue) Wait() <-chan struct{} { return q.notify }

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

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
