package spool

import (
	"path/filepath"

	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// report logs and counts what opening or replacing the file found.
func (st *Store) report(rep Report) {
	log := st.opt.Logger.WithField("spool", st.opt.Dir)
	for _, q := range rep.Quarantined {
		st.m.quarantined.WithLabelValues("file").Inc()
		log.WithError(rep.Reason).WithField("moved_to", q).WithField("salvaged_events", rep.Salvaged).
			Error("spool file damaged: moved aside, readable events kept, starting a fresh spool")
	}
	if rep.Corrupt > 0 {
		st.m.quarantined.WithLabelValues("record").Add(float64(rep.Corrupt))
		log.WithField("records", rep.Corrupt).Error("spool records failed their checksum: quarantined and counted as dropped")
	}
}

// repairLocked replaces a file found damaged while running (bbolt
// panicked on one of its pages): the file is moved aside, what can be
// read is copied into a fresh one, and events not yet written are kept.
// Events of the old file that were in flight may be sent again under a
// new id.
func (st *Store) repairLocked(err error) []queue.Dropped {
	old := st.disk
	next := old.nextSeqs()
	pending := old.TakePending()
	_ = old.Close() // damaged: closing is best effort
	st.disk = nil
	s, rep, rerr := replace(filepath.Join(st.opt.Dir, FileName), st.opt.Options, err, next)
	st.report(rep)
	var dropped []queue.Dropped
	if rerr != nil {
		st.degrade(rerr)
		for _, it := range pending {
			dropped = append(dropped, st.mem.Add(it.Class, it)...)
		}
		return dropped
	}
	st.disk = s
	for _, it := range pending {
		d, err := s.Add(it.Class, it)
		dropped = append(dropped, d...)
		if err != nil {
			return append(dropped, st.fallBack(err)...)
		}
	}
	return dropped
}
