package forge

// Target is what a forge's event (a webhook delivery) concerns: a proposal by its
// number, or a commit by hash (a status or check run reports on a head). Zero when
// the event names neither: then a whole pass is due. It only says where to look;
// the pass reads everything it decides on from the forge itself.
type Target struct {
	Number int
	Commit string
}
