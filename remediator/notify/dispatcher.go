package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/gitops-remediation/terraform-provider-remediation/remediator/queue"
)

// Receiver is one configured destination.
type Receiver struct {
	// Name names its outbox directory and its metrics: [a-z0-9_-].
	Name string
	// Integration is slack, teams or webhook: for metrics and logs.
	Integration string
	Notifier    Notifier
	// Events are the kinds it is told of; empty is every kind.
	Events []Kind
}

func (r *Receiver) wants(k Kind) bool {
	if len(r.Events) == 0 {
		return true
	}
	for _, e := range r.Events {
		if e == k {
			return true
		}
	}
	return false
}

// Options configure a Dispatcher.
type Options struct {
	// Dir holds one outbox per receiver (state_dir/notify).
	Dir       string
	Receivers []Receiver
	Metrics   *Metrics
	Logger    *slog.Logger
	Now       func() time.Time
	// Backoff is the wait after n consecutive failed attempts; nil is
	// DefaultBackoff. A receiver's Retry-After is waited at least.
	Backoff func(n int) time.Duration
	// MaxAge is how long an event is retried before it is given up on; 0 is
	// DefaultMaxAge.
	MaxAge time.Duration
	// Timeout bounds one delivery; 0 is 10 s.
	Timeout time.Duration
	// Poll is how often the outboxes are looked at without a wake-up (events queued
	// by another process); 0 is 5 s.
	Poll time.Duration
}

// DefaultMaxAge rides out a receiver's outage of a day.
const DefaultMaxAge = 24 * time.Hour

// DefaultBackoff doubles from 1 s to at most 5 min.
func DefaultBackoff(n int) time.Duration {
	return min(time.Second<<min(n-1, 9), 5*time.Minute)
}

// Dispatcher queues events and delivers them. Emit never waits for a receiver.
type Dispatcher struct {
	o     Options
	boxes []*outbox
	// owner names this replica in the claims (see Claims): its state directory's.
	owner string
}

type outbox struct {
	r    Receiver
	box  *queue.Outbox
	wake chan struct{}
	mu   sync.Mutex // one delivery loop at a time
	// failures counts consecutive failed attempts; hold is when the next may start.
	failures int
	hold     time.Time
}

// New opens the receivers' outboxes; events queued by an earlier run are delivered
// by Run.
func New(o Options) (*Dispatcher, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{o: o}
	if len(o.Receivers) > 0 {
		owner, err := ownerOf(o.Dir)
		if err != nil {
			return nil, err
		}
		d.owner = owner
	}
	for _, r := range o.Receivers {
		box, err := queue.OpenOutbox(filepath.Join(o.Dir, r.Name), o.Now)
		if err != nil {
			return nil, fmt.Errorf("open notifications of %s: %w", r.Name, err)
		}
		d.boxes = append(d.boxes, &outbox{r: r, box: box, wake: make(chan struct{}, 1)})
	}
	return d, nil
}

// Emit records an event's time to remediate and queues it, durably, for each
// receiver that wants it. A failure to queue is logged, never returned: telling
// people must not stop the remediation.
func (d *Dispatcher) Emit(e Event) {
	if d == nil {
		return
	}
	d.o.Metrics.observe(&e)
	d.queue(e)
}

// queue puts an event in the outbox of each receiver that wants it, and says
// whether any had not known it (queued, delivered or given up on) before.
func (d *Dispatcher) queue(e Event) (queuedAny bool) {
	log := d.log(e)
	if len(d.boxes) == 0 {
		return false
	}
	payload, err := json.Marshal(e)
	if err != nil {
		log.Error("queue notification", "err", err)
		return false
	}
	for _, b := range d.boxes {
		if !b.r.wants(e.Kind) {
			continue
		}
		queued, err := b.box.Put(e.ID, payload)
		switch {
		case err != nil:
			log.Error("queue notification", "receiver", b.r.Name, "err", err)
		case queued:
			queuedAny = true
			log.Debug("notification queued", "receiver", b.r.Name)
			select {
			case b.wake <- struct{}{}:
			default:
			}
		}
	}
	return queuedAny
}

// known says whether every receiver that wants an event of kind k has it queued,
// delivered or given up on: nothing is left to tell.
func (d *Dispatcher) known(k Kind, id string) bool {
	for _, b := range d.boxes {
		if b.r.wants(k) && !b.box.Known(id) {
			return false
		}
	}
	return true
}

func (d *Dispatcher) log(e Event) *slog.Logger {
	return d.o.Logger.With("event", e.ID, "kind", string(e.Kind), "remediation_id", e.RemediationID)
}

// Run delivers until ctx ends, one loop per receiver: a receiver that is down or
// slow holds up no other.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, b := range d.boxes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.loop(ctx, b)
		}()
	}
	wg.Wait()
}

func (d *Dispatcher) loop(ctx context.Context, b *outbox) {
	for {
		wait := d.deliver(ctx, b)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-b.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Flush makes one attempt at everything queued, for a command that exits after.
// What is not delivered stays queued.
func (d *Dispatcher) Flush(ctx context.Context) {
	for _, b := range d.boxes {
		d.deliver(ctx, b)
	}
}

// deliver sends a receiver's queued events in order, until one fails; it returns
// how long to wait before the next round.
func (d *Dispatcher) deliver(ctx context.Context, b *outbox) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := d.o.Now()
	if now.Before(b.hold) {
		return min(b.hold.Sub(now), d.o.Poll)
	}
	release, ok := b.box.Claim()
	if !ok {
		return d.o.Poll // another process (serve) delivers this receiver's events
	}
	defer release()
	pending, err := b.box.Pending()
	if err != nil {
		d.o.Logger.Error("read notifications", "receiver", b.r.Name, "err", err)
		return d.o.Poll
	}
	defer func() { d.o.Metrics.queued(b.r.Name, b.box.Len()) }()
	for _, m := range pending {
		if ctx.Err() != nil {
			return d.o.Poll
		}
		if retryIn, failed := d.send(ctx, b, m); failed {
			return retryIn
		}
	}
	return d.o.Poll
}

// send delivers one event; failed says the receiver's round stops here, to resume
// after retryIn.
func (d *Dispatcher) send(ctx context.Context, b *outbox, m queue.Message) (retryIn time.Duration, failed bool) {
	var e Event
	log := d.o.Logger.With("receiver", b.r.Name, "integration", b.r.Integration, "event", m.Key)
	if err := json.Unmarshal(m.Payload, &e); err != nil {
		d.giveUp(b, m, fmt.Errorf("decode queued event: %w", err), log)
		return 0, false
	}
	log = log.With("kind", string(e.Kind), "remediation_id", e.RemediationID)
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	err := b.r.Notifier.Notify(ctx, &e)
	cancel()
	now := d.o.Now()
	if err == nil {
		b.failures, b.hold = 0, time.Time{}
		if derr := b.box.Delivered(m.Key); derr != nil {
			log.Error("record notification as delivered", "err", derr)
		}
		d.o.Metrics.count(b.r, "delivered")
		d.o.Metrics.latency(b.r.Integration, now.Sub(e.At))
		log.Info("notification delivered")
		return 0, false
	}
	var re *RetryError
	if !errors.As(err, &re) {
		d.giveUp(b, m, err, log)
		return 0, false
	}
	if now.Sub(m.Queued) > d.o.MaxAge {
		d.giveUp(b, m, fmt.Errorf("still failing after %s: %w", d.o.MaxAge, err), log)
		return 0, false
	}
	b.failures++
	wait := max(d.o.Backoff(b.failures), re.After)
	b.hold = now.Add(wait)
	d.o.Metrics.count(b.r, "retried")
	log.Warn("notification failed; will retry", "attempts", b.failures, "retry_in", wait.String(), "err", err.Error())
	return wait, true
}

func (d *Dispatcher) giveUp(b *outbox, m queue.Message, err error, log *slog.Logger) {
	d.o.Metrics.count(b.r, "given-up")
	log.Error("notification given up", "err", err.Error())
	if gerr := b.box.GiveUp(m, err.Error()); gerr != nil {
		log.Error("set the notification aside", "err", gerr)
	}
}

func (m *Metrics) count(r Receiver, outcome string) {
	if m != nil {
		m.Notifications.WithLabelValues(r.Name, r.Integration, outcome).Inc()
	}
}

func (m *Metrics) latency(integration string, d time.Duration) {
	if m != nil {
		m.Latency.WithLabelValues(integration).Observe(max(d, 0).Seconds())
	}
}

func (m *Metrics) queued(receiver string, n int) {
	if m != nil {
		m.Queued.WithLabelValues(receiver).Set(float64(n))
	}
}
