package mesh

import "errors"

var (
	// ErrConfig marks an invalid configuration.
	ErrConfig = errors.New("invalid mesh config")
	// ErrClosed: the mesh was closed.
	ErrClosed = errors.New("mesh closed")
	// ErrJoin: none of the addresses given to Join answered.
	ErrJoin = errors.New("mesh join failed")
	// ErrUnknownMember: no member of that name is known (never seen, or
	// reaped).
	ErrUnknownMember = errors.New("unknown mesh member")
	// ErrNoResponse: a probe got no answer in time, or the member is known
	// to have failed or left.
	ErrNoResponse = errors.New("mesh member did not answer")
)
