package spool

import (
	"errors"
	"fmt"
	"runtime/debug"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// update and view run a transaction with faults on the mapping turned
// into panics, and bbolt's panics on damaged pages into errDamaged.
func (s *Spool) update(fn func(*bbolt.Tx) error) error {
	return s.guard(func() error { return s.db.Update(fn) })
}

func (s *Spool) view(fn func(*bbolt.Tx) error) error {
	return s.guard(func() error { return s.db.View(fn) })
}

func (s *Spool) guard(f func() error) error {
	if s.damaged != nil {
		return s.damaged
	}
	err := s.protect(f)
	if isStructural(err) && !errors.Is(err, errDamaged) {
		err = fmt.Errorf("%w: %w", errDamaged, err)
		s.damaged = err
	}
	return err
}

// isStructural tells bbolt errors that mean a damaged file (a record
// whose flags say bucket, a bucket gone) from those of the volume.
func isStructural(err error) bool {
	for _, e := range []error{berrors.ErrIncompatibleValue, berrors.ErrBucketNotFound, berrors.ErrInvalid,
		berrors.ErrChecksum, berrors.ErrInvalidMapping, berrors.ErrVersionMismatch} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (s *Spool) protect(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errDamaged, r)
			s.damaged = err
		}
	}()
	return f()
}
