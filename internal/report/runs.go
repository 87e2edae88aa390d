package report

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/harrier-ir/harrier/internal/store"
)

// sampleTargets is how many distinct targets a collapsed row names.
const sampleTargets = 3

// runsOf lists the events f selects as the attacker's timeline: each run
// of consecutive events by the same credential, from the same address and
// client, doing the same thing with the same outcome (to different
// targets) is one row with a count, its first and last time and a sample
// of targets. Four hundred GetObjects then take one row, and the end of
// an attack fits beside its start. If the rows still exceed max, every row
// that changes something is kept and read-only rows are cut (the earliest
// kept), and the table says what was cut.
func runsOf(ctx context.Context, st *store.Store, f store.Filter, max int) (eventTable, error) {
	var t eventTable
	var err error
	if t.Total, err = st.CountEvents(ctx, f); err != nil {
		return t, err
	}
	c := newCollapser(max)
	err = st.Timeline(ctx, f, func(ev *store.TimelineEvent) error {
		// a call not marked read-only (or not marked at all) is kept
		c.add(rowOf(ev), ev.ReadOnly.Valid && ev.ReadOnly.Bool)
		return nil
	})
	if err != nil {
		return t, err
	}
	t.Rows, t.Cut = c.finish()
	t.Runs = true
	return t, nil
}

// run is consecutive events that differ only in time and target.
type run struct {
	row      eventRow
	key      string
	readOnly bool
}

// collapser folds events into runs as they stream, keeping at most max
// rows of each kind (read-only or not) so memory is bounded by the table
// it makes, not by the scope.
type collapser struct {
	max             int
	cur             *run
	kept            []run
	writes, reads   int   // kept runs of each kind
	cutRows         int   // read-only runs cut
	cutEvents       int64 // their events
	cutWrites       int   // runs that change something, past max
	cutWritesEvents int64
}

func newCollapser(max int) *collapser { return &collapser{max: max} }

// runKey is what must be equal for two events to share a row.
func runKey(r eventRow) string {
	return strings.Join([]string{r.Who, r.Key, r.IP, r.UserAgent, r.What, r.Outcome, r.Account, r.Region,
		fmt.Sprint(r.Untrusted, r.NoTime)}, "\x00")
}

// add takes the next event in time order.
func (c *collapser) add(r eventRow, readOnly bool) {
	k := runKey(r)
	if c.cur != nil && c.cur.key == k && c.cur.readOnly == readOnly {
		cr := &c.cur.row
		cr.Count++
		cr.LastTime = r.Time
		if r.Target != "" && !slices.Contains(cr.Targets, r.Target) {
			if len(cr.Targets) < sampleTargets {
				cr.Targets = append(cr.Targets, r.Target)
			} else {
				cr.MoreTargets = true
			}
		}
		return
	}
	c.flush()
	r.Count, r.LastTime = 1, r.Time
	if r.Target != "" {
		r.Targets = []string{r.Target}
	}
	c.cur = &run{row: r, key: k, readOnly: readOnly}
}

// flush ends the current run: kept if it could still be shown, else
// counted as cut.
func (c *collapser) flush() {
	if c.cur == nil {
		return
	}
	r := *c.cur
	c.cur = nil
	switch {
	case !r.readOnly && c.writes < c.max:
		c.writes++
	case !r.readOnly:
		c.cutWrites++
		c.cutWritesEvents += r.row.Count
		return
	case c.reads < c.max:
		c.reads++
	default:
		c.cutRows++
		c.cutEvents += r.row.Count
		return
	}
	c.kept = append(c.kept, r)
}

// finish returns the rows in time order, at most max, and what was cut.
func (c *collapser) finish() ([]eventRow, string) {
	c.flush()
	budget := c.max - c.writes // rows left for read-only runs
	var rows []eventRow
	shownReads := 0
	for _, r := range c.kept {
		if r.readOnly {
			if shownReads == budget {
				c.cutRows++
				c.cutEvents += r.row.Count
				continue
			}
			shownReads++
		}
		rows = append(rows, r.row)
	}
	var cut []string
	if c.cutWrites > 0 {
		cut = append(cut, fmt.Sprintf("%s that change something (%s), past the limit of %d rows", plural(int64(c.cutWrites), "later row"), plural(c.cutWritesEvents, "event"), c.max))
	}
	if c.cutRows > 0 {
		cut = append(cut, fmt.Sprintf("%s (%s), the latest, to keep every row that changes something", plural(int64(c.cutRows), "read-only row"), plural(c.cutEvents, "event")))
	}
	if len(cut) == 0 {
		return rows, ""
	}
	return rows, "not shown: " + strings.Join(cut, "; ") + ". harrier timeline --scope lists every event."
}

// plural is n and the noun, with an s unless n is 1.
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
