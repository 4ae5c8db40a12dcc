package content

import "context"

type publisherKey struct{}

// WithPublisher returns ctx carrying the certificate hash
// (records.CertHash) of the authenticated publisher a publish is made for.
// The manifest records it as PublishedBy, and the chaincode checks that it
// names a publisher of the gateway's organisation.
func WithPublisher(ctx context.Context, certHash string) context.Context {
	return context.WithValue(ctx, publisherKey{}, certHash)
}

// PublisherFrom returns the publisher certificate hash WithPublisher put in
// ctx, or "".
func PublisherFrom(ctx context.Context) string {
	h, _ := ctx.Value(publisherKey{}).(string)
	return h
}
