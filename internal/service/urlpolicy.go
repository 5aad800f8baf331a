package service

import (
	"errors"

	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/task"
)

// checkInput is checkRemote for an input URL the gateway reads (images,
// videos, audio): a gateway file URL is read from blob storage, never dialled,
// and passes. Only the reading side may skip the check: anything the gateway
// sends to (callback_url) goes through checkRemote whatever it looks like.
func (s *Service) checkInput(field, u string) error {
	if s.media != nil {
		if _, isFile := s.media.FileID(u); isFile {
			return nil
		}
	}
	return s.checkRemote(field, u)
}

// checkRemote refuses at submit a user-supplied http(s) URL that plainly points
// inside (a literal loopback, private, link-local or metadata address, a
// localhost name, a port other than 80/443), naming the field. Names that only
// resolve to such addresses are refused when dialled (safehttp).
func (s *Service) checkRemote(field, u string) error {
	err := safehttp.CheckURL(u, s.urlPolicy)
	if err == nil {
		return nil
	}
	reason := err.Error()
	var re *safehttp.RefusedError
	if errors.As(err, &re) {
		reason = re.Reason
	}
	return task.Errorf(task.CodeInvalidParameter, field,
		"%s is refused: %s; user-supplied URLs must reach the public internet (an operator can open private networks with SEEDGATE_ALLOW_PRIVATE_URLS)",
		field, reason)
}
