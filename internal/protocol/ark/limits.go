package ark

// Limits of the upstream API (docs/upstream-ark.md#create-body and
// #input-limits), for the side that sends and the side that serves alike.
const (
	// MaxBody is the create call's request body limit.
	MaxBody = 64 << 20
	// MaxImageBytes is the limit of one input image (exclusive).
	MaxImageBytes = 30 << 20
)
