package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	json "github.com/goccy/go-json"
)

// Outbox holds messages to deliver to one receiver, durably and once each: a message
// is one file named by its idempotency key, written and fsynced (then renamed into
// place, the directory fsynced) before Put returns. Delivered, the message leaves a
// marker under sent/ for SentRetention, so the same key is never queued again, by
// this process or the next. Notifications are few (a handful per remediation), so a
// file each costs nothing and makes the key the dedupe: the anomaly log's segments
// are for thousands a second.
//
// Several processes may Put into one outbox (serve and a `reconcile` run sharing the
// state directory); one process delivers.
type Outbox struct {
	dir string
	now func() time.Time
}

// Message is one queued message.
type Message struct {
	Key     string          `json:"key"`
	Queued  time.Time       `json:"queued"`
	Payload json.RawMessage `json:"payload"`
}

// SentRetention is how long a delivered key is remembered.
const SentRetention = 14 * 24 * time.Hour

const sentDir = "sent"

// OpenOutbox opens (creating) an outbox directory and forgets the delivered keys
// older than SentRetention.
func OpenOutbox(dir string, now func() time.Time) (*Outbox, error) {
	for _, d := range []string{dir, filepath.Join(dir, sentDir), filepath.Join(dir, deadDir)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("open outbox: %w", err)
		}
	}
	o := &Outbox{dir: dir, now: now}
	tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	for _, t := range tmps {
		_ = os.Remove(t) // never acknowledged
	}
	sent, _ := filepath.Glob(filepath.Join(dir, sentDir, "*"))
	for _, s := range sent {
		if fi, err := os.Stat(s); err == nil && now().Sub(fi.ModTime()) > SentRetention {
			_ = os.Remove(s)
		}
	}
	return o, nil
}

// Put queues a message under its key; false when the key is queued, delivered or
// given up on already.
func (o *Outbox) Put(key string, payload []byte) (bool, error) {
	if err := checkID(key); err != nil {
		return false, fmt.Errorf("outbox: %w", err)
	}
	if o.known(key) {
		return false, nil
	}
	data, err := json.Marshal(Message{Key: key, Queued: o.now().UTC(), Payload: payload})
	if err != nil {
		return false, fmt.Errorf("outbox: queue %s: %w", key, err)
	}
	final := filepath.Join(o.dir, key+".json")
	tmp, err := writeTemp(o.dir, key, data)
	if err != nil {
		return false, fmt.Errorf("outbox: queue %s: %w", key, err)
	}
	// A link fails when the key is there: two writers racing queue it once.
	err = os.Link(tmp, final)
	_ = os.Remove(tmp)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("outbox: queue %s: %w", key, err)
	}
	if err := syncDir(o.dir); err != nil {
		return false, fmt.Errorf("outbox: queue %s: %w", key, err)
	}
	return true, nil
}

// Known says whether a key is queued, delivered (within SentRetention) or given up
// on: Put would not queue it again.
func (o *Outbox) Known(key string) bool {
	return checkID(key) == nil && o.known(key)
}

func (o *Outbox) known(key string) bool {
	for _, p := range []string{key + ".json", filepath.Join(sentDir, key), filepath.Join(deadDir, key+".json")} {
		if _, err := os.Stat(filepath.Join(o.dir, p)); err == nil {
			return true
		}
	}
	return false
}

// Pending lists the messages not yet delivered, oldest first. A message delivered
// just before a crash that kept it from being removed is removed now, not listed.
func (o *Outbox) Pending() ([]Message, error) {
	files, _ := filepath.Glob(filepath.Join(o.dir, "*.json"))
	var out []Message
	for _, f := range files {
		key := strings.TrimSuffix(filepath.Base(f), ".json")
		if _, err := os.Stat(filepath.Join(o.dir, sentDir, key)); err == nil {
			_ = os.Remove(f)
			continue
		}
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		var m Message
		if err := json.Unmarshal(data, &m); err != nil || m.Key != key {
			_ = os.Rename(f, f+".corrupt") // not ours: set aside, never retried forever
			continue
		}
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Queued.Before(out[j].Queued) })
	return out, nil
}

// Delivered records a message as delivered: the marker first (fsynced), then the
// message goes. A crash between the two leaves a message Pending drops unsent.
func (o *Outbox) Delivered(key string) error {
	if err := checkID(key); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	marker := filepath.Join(o.dir, sentDir, key)
	if err := writeSync(marker, nil); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("outbox: record %s as delivered: %w", key, err)
	}
	if err := syncDir(filepath.Join(o.dir, sentDir)); err != nil {
		return fmt.Errorf("outbox: record %s as delivered: %w", key, err)
	}
	if err := os.Remove(filepath.Join(o.dir, key+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("outbox: record %s as delivered: %w", key, err)
	}
	return nil
}

// GiveUp moves a message to dead/ with why: it is not retried, and its key is not
// queued again.
func (o *Outbox) GiveUp(m Message, reason string) error {
	data, err := json.Marshal(struct {
		Message
		Error string    `json:"error"`
		At    time.Time `json:"at"`
	}{m, reason, o.now().UTC()})
	if err != nil {
		return fmt.Errorf("outbox: give up on %s: %w", m.Key, err)
	}
	dead := filepath.Join(o.dir, deadDir, m.Key+".json")
	_ = os.Remove(dead + ".tmp")
	if err := writeSync(dead+".tmp", data); err != nil {
		return fmt.Errorf("outbox: give up on %s: %w", m.Key, err)
	}
	if err := os.Rename(dead+".tmp", dead); err != nil {
		return fmt.Errorf("outbox: give up on %s: %w", m.Key, err)
	}
	if err := os.Remove(filepath.Join(o.dir, m.Key+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("outbox: give up on %s: %w", m.Key, err)
	}
	return syncDir(o.dir)
}

// Len counts the messages not yet delivered.
func (o *Outbox) Len() int {
	files, _ := filepath.Glob(filepath.Join(o.dir, "*.json"))
	return len(files)
}

// Claim makes this process the outbox's one deliverer until release: two processes
// sending the same queue would deliver its messages twice. ok is false while
// another process holds it.
func (o *Outbox) Claim() (release func(), ok bool) {
	f, err := os.OpenFile(filepath.Join(o.dir, "deliver.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, true
}

// writeTemp writes data to a new temporary file of dir, fsynced: each writer its own.
func writeTemp(dir, key string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, key+".*.tmp")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
