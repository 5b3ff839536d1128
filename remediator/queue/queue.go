// Package queue is the durable intake queue: the anomalies a notification carries are
// on disk, fsynced, before the reply, and each stays there until it has been handled,
// so neither a crash nor a restart loses one.
//
// The queue is an append-only log in segments. One notification is one record (one
// append, one fdatasync, however many alerts it carries); each handled anomaly is one
// line in the segment's done log. A process starts a new segment, so a record torn by
// a crash (never acknowledged) is only ever at the end of a segment, where the reader
// drops it. A segment whose anomalies are all handled is removed.
package queue

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/intake"
)

// Item is one queued anomaly. Its ID is "<notification>.<index>".
type Item struct {
	ID      string         `json:"id"`
	Queued  time.Time      `json:"queued"`
	Anomaly intake.Anomaly `json:"anomaly"`
	// Attempts counts the failed attempts to handle it, across restarts.
	Attempts int `json:"attempts,omitempty"`
}

// batch is the record of one notification.
type batch struct {
	ID        string           `json:"id"`
	Queued    time.Time        `json:"queued"`
	Anomalies []intake.Anomaly `json:"anomalies"`
}

// MaxSegmentBytes is the size after which the next notification starts a new segment.
const MaxSegmentBytes = 8 << 20

// Queue is the log directory and the pending anomalies it holds, in arrival order.
type Queue struct {
	dir string
	now func() time.Time

	mu      sync.Mutex
	seq     uint64
	cur     *os.File // the segment appended to
	curName string
	curSize int64
	// pending are the anomalies not yet handled, oldest first.
	pending []Item
	// open counts the unhandled anomalies of each segment (by name).
	open map[string]int
	// segOf names the segment of each notification.
	segOf  map[string]string
	notify chan struct{}
	// limit bounds the pending anomalies; 0 is no bound.
	limit int
}

// ErrFull is a Put the queue's bound refuses: the sender should retry later.
var ErrFull = errors.New("the queue is full")

// SetLimit bounds the anomalies the queue holds; a Put past it fails with ErrFull.
func (q *Queue) SetLimit(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.limit = n
}

// Open opens (creating) the queue directory and reads what an earlier run left.
func Open(dir string, now func() time.Time) (*Queue, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open queue: %w", err)
	}
	q := &Queue{dir: dir, now: now, notify: make(chan struct{}, 1), open: map[string]int{}, segOf: map[string]string{}}
	if err := q.load(); err != nil {
		return nil, fmt.Errorf("open queue: %w", err)
	}
	return q, nil
}

// load reads every segment (and the files of earlier versions) into pending.
func (q *Queue) load() error {
	// Leftovers of an earlier version's write interrupted before its rename were
	// never acknowledged.
	tmps, _ := filepath.Glob(filepath.Join(q.dir, "*.tmp"))
	for _, t := range tmps {
		_ = os.Remove(t)
	}
	segs, _ := filepath.Glob(filepath.Join(q.dir, "seg-*.log"))
	sort.Strings(segs)
	for _, s := range segs {
		if err := q.loadSegment(filepath.Base(s)); err != nil {
			return err
		}
	}
	return q.loadLegacy()
}

func (q *Queue) loadSegment(name string) error {
	data, err := os.ReadFile(filepath.Join(q.dir, name))
	if err != nil {
		return err
	}
	done, failed, err := readDone(filepath.Join(q.dir, doneName(name)))
	if err != nil {
		return err
	}
	n := 0
	for _, b := range readRecords(data) {
		q.segOf[b.ID] = name
		for i, a := range b.Anomalies {
			id := itemID(b.ID, i)
			if done[id] {
				continue
			}
			q.pending = append(q.pending, Item{ID: id, Queued: b.Queued, Anomaly: a, Attempts: failed[id]})
			n++
		}
	}
	if n == 0 {
		// Fully handled (or only a torn record): nothing to keep.
		_ = os.Remove(filepath.Join(q.dir, name))
		_ = os.Remove(filepath.Join(q.dir, doneName(name)))
		return nil
	}
	q.open[name] = n
	return nil
}

// loadLegacy reads the one-file-per-anomaly queue of earlier versions; a file this
// queue did not write is set aside (.corrupt), never lost and never retried forever.
func (q *Queue) loadLegacy() error {
	files, _ := filepath.Glob(filepath.Join(q.dir, "*.json"))
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var it Item
		if err := json.Unmarshal(data, &it); err != nil || it.ID+".json" != filepath.Base(f) {
			_ = os.Rename(f, f+".corrupt")
			continue
		}
		q.pending = append(q.pending, it)
	}
	return nil
}

// Put stores the anomalies of one notification durably: one record appended to the
// current segment and fdatasynced before Put returns.
func (q *Queue) Put(anomalies []intake.Anomaly) ([]string, error) {
	if len(anomalies) == 0 {
		return nil, nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.limit > 0 && len(q.pending)+len(anomalies) > q.limit {
		return nil, fmt.Errorf("%d queued, %d more would pass the bound of %d: %w", len(q.pending), len(anomalies), q.limit, ErrFull)
	}
	q.seq++
	b := batch{ID: fmt.Sprintf("%020d-%06d-%d", q.now().UnixNano(), q.seq%1_000_000, os.Getpid()), Queued: q.now().UTC(), Anomalies: anomalies}
	payload, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("queue anomalies: %w", err)
	}
	rec := record(payload)
	if err := q.segment(int64(len(rec))); err != nil {
		return nil, fmt.Errorf("queue anomalies: %w", err)
	}
	if _, err := q.cur.Write(rec); err != nil {
		q.abandonSegment()
		return nil, fmt.Errorf("queue anomalies: %w", err)
	}
	if err := fdatasync(q.cur); err != nil {
		// Not acknowledged: the sender retries. The record may still be read after a
		// restart; handling it then is harmless (the proposal is idempotent).
		q.abandonSegment()
		return nil, fmt.Errorf("queue anomalies: %w", err)
	}
	q.curSize += int64(len(rec))
	q.segOf[b.ID] = q.curName
	q.open[q.curName] += len(anomalies)
	ids := make([]string, len(anomalies))
	for i, a := range anomalies {
		ids[i] = itemID(b.ID, i)
		q.pending = append(q.pending, Item{ID: ids[i], Queued: b.Queued, Anomaly: a})
	}
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return ids, nil
}

// segment makes sure a segment with room is open for appending; a new one has its
// directory entry fsynced before any record is acknowledged in it.
func (q *Queue) segment(need int64) error {
	if q.cur != nil && q.curSize+need <= MaxSegmentBytes {
		return nil
	}
	if q.cur != nil {
		_ = q.cur.Close()
		q.cur = nil
		if q.open[q.curName] <= 0 {
			// Everything in it was handled while it was being written.
			_ = os.Remove(filepath.Join(q.dir, q.curName))
			_ = os.Remove(filepath.Join(q.dir, doneName(q.curName)))
			delete(q.open, q.curName)
		}
	}
	name := fmt.Sprintf("seg-%020d-%d.log", q.now().UnixNano(), os.Getpid())
	f, err := os.OpenFile(filepath.Join(q.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	if err := syncDir(q.dir); err != nil {
		f.Close()
		return err
	}
	q.cur, q.curName, q.curSize = f, name, 0
	return nil
}

// abandonSegment stops appending to a segment after a failed write: the next record
// starts a new one, so a half-written record stays the last of its segment.
func (q *Queue) abandonSegment() {
	if q.cur != nil {
		_ = q.cur.Close()
		q.cur = nil
	}
}

// record frames a payload: "<length> <crc32>\n<payload>\n". A torn record (a crash
// during its write) fails its length or checksum and is dropped by the reader.
func record(payload []byte) []byte {
	head := fmt.Sprintf("%d %08x\n", len(payload), crc32.ChecksumIEEE(payload))
	out := make([]byte, 0, len(head)+len(payload)+1)
	out = append(out, head...)
	out = append(out, payload...)
	return append(out, '\n')
}

// readRecords reads the records of a segment, stopping at the first that is torn.
func readRecords(data []byte) []batch {
	var out []batch
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			break
		}
		var n int
		var sum uint32
		if _, err := fmt.Sscanf(string(data[:nl]), "%d %x", &n, &sum); err != nil || n < 0 || nl+1+n+1 > len(data) {
			break
		}
		payload := data[nl+1 : nl+1+n]
		if crc32.ChecksumIEEE(payload) != sum || data[nl+1+n] != '\n' {
			break
		}
		var b batch
		if err := json.Unmarshal(payload, &b); err == nil && b.ID != "" {
			out = append(out, b)
		}
		data = data[nl+1+n+1:]
	}
	return out
}

func itemID(batchID string, i int) string { return batchID + "." + strconv.Itoa(i) }

func doneName(segment string) string { return strings.TrimSuffix(segment, ".log") + ".done" }

// readDone reads the ids handled so far, one per line ending in ";", and the failed
// attempts, one line "<id>!;" each. A line cut short by a crash during its append is
// ignored (that anomaly is handled again, which the proposal's idempotence makes
// harmless; a lost failure is one more attempt).
func readDone(path string) (done map[string]bool, failed map[string]int, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	done, failed = map[string]bool{}, map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasSuffix(line, ";") {
			continue
		}
		line = strings.TrimSuffix(line, ";")
		if id, ok := strings.CutSuffix(line, "!"); ok {
			failed[id]++
			continue
		}
		done[line] = true
	}
	return done, failed, nil
}

// Pending lists the queued anomalies not yet handled, oldest first.
func (q *Queue) Pending() ([]Item, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Item(nil), q.pending...), nil
}

// Len is the number of anomalies queued and not yet handled.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

// Done records an anomaly as handled; a segment goes when all of its are.
func (q *Queue) Done(id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	at := q.find(id)
	if at < 0 {
		return nil // handled already
	}
	dot := strings.LastIndexByte(id, '.')
	seg, ok := "", dot > 0
	if ok {
		seg, ok = q.segOf[id[:dot]]
	}
	if !ok {
		// An anomaly of an earlier version's queue: its own file.
		if err := os.Remove(filepath.Join(q.dir, id+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		q.pending = append(q.pending[:at], q.pending[at+1:]...)
		return nil
	}
	q.open[seg]--
	if q.open[seg] <= 0 && seg != q.curName {
		// Every anomaly of a segment no longer written to is handled.
		if err := os.Remove(filepath.Join(q.dir, seg)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		_ = os.Remove(filepath.Join(q.dir, doneName(seg)))
		delete(q.open, seg)
	} else if err := appendSync(filepath.Join(q.dir, doneName(seg)), "\n"+id+";\n"); err != nil {
		q.open[seg]++
		return fmt.Errorf("queue: record %s as handled: %w", id, err)
	}
	q.pending = append(q.pending[:at], q.pending[at+1:]...)
	return nil
}

// Fail records a failed attempt to handle an anomaly, durably, and returns how many
// there have been: the count survives a restart, so an anomaly that crashes the
// process every time is still given up on.
func (q *Queue) Fail(id string) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	at := q.find(id)
	if at < 0 {
		return 0, fmt.Errorf("queue: no pending anomaly %s", id)
	}
	if dot := strings.LastIndexByte(id, '.'); dot > 0 {
		if seg, ok := q.segOf[id[:dot]]; ok {
			if err := appendSync(filepath.Join(q.dir, doneName(seg)), "\n"+id+"!;\n"); err != nil {
				return 0, fmt.Errorf("queue: record a failed attempt of %s: %w", id, err)
			}
		}
	}
	q.pending[at].Attempts++
	return q.pending[at].Attempts, nil
}

func (q *Queue) find(id string) int {
	for i, it := range q.pending {
		if it.ID == id {
			return i
		}
	}
	return -1
}

// Wait returns a channel that receives after a Put.
func (q *Queue) Wait() <-chan struct{} { return q.notify }

// Close closes the segment being written.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cur == nil {
		return nil
	}
	err := q.cur.Close()
	q.cur = nil
	return err
}

// appendSync appends a line and fsyncs it; a file it creates has its directory entry
// fsynced too, so the record survives a crash.
func appendSync(path, line string) error {
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	if err := fdatasync(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if created {
		return syncDir(filepath.Dir(path))
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
